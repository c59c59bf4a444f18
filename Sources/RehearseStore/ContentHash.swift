import Foundation
import RehearseCore

/// The identity of a plan's content: `gate` compares it to say whether this exact plan was rehearsed.
public enum ContentHash {
    /// `sha256:` and the hex digest of the text's UTF-8 bytes.
    public static func of(_ text: String) -> String {
        of(Array(text.utf8))
    }

    /// `sha256:` of a file's bytes, read a mebibyte at a time (a large dump is never held whole);
    /// nil when it cannot be opened or read.
    public static func ofFile(atPath path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
        } catch {
            return nil
        }
        return hex(hasher.finalize())
    }

    /// `sha256:` and the hex digest of the bytes.
    public static func of(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    private static func hex(_ digest: [UInt8]) -> String {
        "sha256:" + SHA256.hex(digest)
    }
}
