import Foundation
import RehearseCore
@testable import RehearseRunner
import RehearseTestSupport
import Testing

/// What a run keeps of a fingerprint's output: digests of the bytes, bounded memory whatever the
/// lines.
@Suite struct FingerprintReaderTests {
    static let ignoringTokens = Fingerprint(
        command: Command(run: "./digest", location: SourceLocation(file: "p.yml", line: 1, column: 1)),
        ignore: [Fingerprint.Pattern("^token ", location: SourceLocation(file: "p.yml", line: 2, column: 1))])

    func read(_ bytes: [UInt8], in folder: TemporaryFolder, settings: Fingerprint?) throws -> FingerprintOutput {
        let path = folder.path + "/out-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try #require(FingerprintReader.read(path, settings: settings))
    }

    /// The byte 0xFF and the characters `\xFF` read as the same text but not the same digest,
    /// with and without `ignore`.
    @Test(arguments: [false, true]) func digestsAreOfTheBytesNotTheirText(ignoring: Bool) async throws {
        try await TemporaryFolder.with { folder in
            let settings = ignoring ? Self.ignoringTokens : nil
            let byte = try read(Array("v=".utf8) + [0xFF, 0x0A], in: folder, settings: settings)
            let characters = try read(Array("v=\\xFF\n".utf8), in: folder, settings: settings)
            #expect(byte.text == characters.text)
            #expect(byte.digest != characters.digest)
            #expect(FingerprintComparison(before: byte, after: characters, settings: settings).differs)
        }
    }

    /// Ignored lines stay out of the digest; a line too long to be ignored is in it.
    @Test func ignoredLinesAreOutOfTheDigestAndVeryLongOnesIn() async throws {
        try await TemporaryFolder.with { folder in
            let long = String(repeating: "y", count: Fingerprint.longestIgnorableLine)
            let one = try read(Array("token 1\nrow\ntoken \(long)a\n".utf8), in: folder, settings: Self.ignoringTokens)
            let two = try read(Array("token 2\nrow\ntoken \(long)a\n".utf8), in: folder, settings: Self.ignoringTokens)
            let three = try read(Array("token 2\nrow\ntoken \(long)b\n".utf8), in: folder, settings: Self.ignoringTokens)
            #expect(one.digest == two.digest)
            #expect(two.digest != three.digest)
            #expect(!FingerprintComparison(before: one, after: two, settings: Self.ignoringTokens).differs)
            #expect(FingerprintComparison(before: two, after: three, settings: Self.ignoringTokens).differs)
        }
    }

    /// A 20 MB output of one line, with `ignore`: read without holding the line (the kept text
    /// is bounded, and the digest is of every byte).
    @Test func oneHugeLineIsReadAsItStreams() async throws {
        try await TemporaryFolder.with { folder in
            let huge = try await OwnThread.run { try read(Array(repeating: UInt8(ascii: "a"), count: 20_000_000), in: folder, settings: Self.ignoringTokens) }
            #expect(huge.size == 20_000_000)
            #expect(!huge.isWhole)
            #expect(huge.text.utf8.count <= FingerprintOutput.keptBytes)
            let other = try await OwnThread.run { try read(Array(repeating: UInt8(ascii: "a"), count: 19_999_999) + [UInt8(ascii: "b")], in: folder, settings: Self.ignoringTokens) }
            #expect(huge.digest != other.digest)
        }
    }
}
