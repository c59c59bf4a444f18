import Foundation
import RehearseCore
import RehearseTestSupport
import Testing

/// Files that cannot be plans get a clear diagnostic, never a crash.
@Suite struct PlanFileTests {
    @Test func missingFile() async throws {
        try await TemporaryFolder.with { folder in
            let result = PlanFile.load(folder.path + "/nope.yml")
            #expect(result.diagnostics.map(\.message) == ["no such plan file"])
        }
    }

    @Test func folderInsteadOfFile() async throws {
        try await TemporaryFolder.with { folder in
            let result = PlanFile.load(folder.path)
            #expect(result.diagnostics.map(\.message) == ["is a folder, not a plan file"])
            #expect(result.diagnostics.first?.description.hasPrefix(folder.path + ": error:") == true)
        }
    }

    @Test func unreadableFile() async throws {
        try await TemporaryFolder.with { folder in
            let path = try folder.write("secret.yml", "strategy: custom\n")
            try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: path)
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path) }
            let result = PlanFile.load(path)
            // root reads anything; everyone else gets the permission message.
            if getuid() != 0 {
                #expect(result.diagnostics.first?.message.contains("cannot be read") == true)
            }
            #expect(result.plan == nil)
        }
    }

    @Test func hugeFileIsRefusedBeforeParsing() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.path + "/huge.yml"
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.truncate(atOffset: UInt64(PlanFile.maximumSize + 1))
            try handle.close()
            let result = PlanFile.load(path)
            #expect(result.diagnostics.first?.message.contains("limited to 16 MiB") == true)
        }
    }

    @Test func notUTF8() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.path + "/latin1.yml"
            try Data([0x6E, 0x61, 0x6D, 0x65, 0x3A, 0x20, 0xE9, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: path))
            #expect(PlanFile.load(path).diagnostics.map(\.message) == ["is not UTF-8 text"])
        }
    }

    @Test func nameDefaultsToTheFileName() {
        #expect(PlanFile.defaultName(for: "Rehearsals/checkout.yml") == "checkout")
        #expect(PlanFile.defaultName(for: "/a/b/billing-v3.yaml") == "billing-v3")
    }
}
