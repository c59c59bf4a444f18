import Foundation
import RehearseCore

/// Reads a fingerprint's captured output a mebibyte at a time into what a run keeps of it
/// (``FingerprintOutput``): the first lines up to ``FingerprintOutput/keptBytes`` as text, the
/// whole size, and the digest of the compared lines' bytes. A 300 MB output costs a few
/// mebibytes of memory, never its size: a line is held only up to
/// ``Fingerprint/longestIgnorableLine`` to be matched against `ignore`, and a longer one is
/// compared (hashed as it streams).
enum FingerprintReader {
    static let chunkBytes = 1 << 20

    /// Nil when the file cannot be opened or read.
    static func read(_ path: String, settings: Fingerprint?) -> FingerprintOutput? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let limit = FingerprintOutput.keptBytes
        var hasher = SHA256()
        var kept: [UInt8] = []
        var size = 0
        // The line being read, while it may still be ignored; past the longest ignorable line it
        // is compared, hashed as it comes.
        var line: [UInt8] = []
        var lineIsLong = false
        func add(_ bytes: ArraySlice<UInt8>) {
            if lineIsLong {
                hasher.update(data: bytes)
            } else if line.count + bytes.count > Fingerprint.longestIgnorableLine {
                hasher.update(data: line)
                hasher.update(data: bytes)
                line.removeAll(keepingCapacity: true)
                lineIsLong = true
            } else {
                line += bytes
            }
        }
        func endLine(_ compared: (String) -> Bool) {
            if lineIsLong {
                hasher.update(data: [0x0A])
            } else if compared(Fingerprint.text(of: line)) {
                hasher.update(data: line + [0x0A])
            }
            line.removeAll(keepingCapacity: true)
            lineIsLong = false
        }
        func readAll(_ compared: ((String) -> Bool)?) -> Bool {
            do {
                while let chunk = try handle.read(upToCount: chunkBytes), !chunk.isEmpty {
                    size += chunk.count
                    if kept.count <= limit { kept += chunk.prefix(limit + 1 - kept.count) }
                    guard let compared else {
                        hasher.update(data: chunk)
                        continue
                    }
                    let bytes = [UInt8](chunk)
                    var start = 0
                    while let newline = bytes[start...].firstIndex(of: 0x0A) {
                        add(bytes[start..<newline])
                        endLine(compared)
                        start = newline + 1
                    }
                    add(bytes[start...])
                }
            } catch {
                return false
            }
            if let compared, !line.isEmpty || lineIsLong { endLine(compared) }
            return true
        }
        guard settings.map({ $0.withComparedLineFilter(readAll) }) ?? readAll(nil) else { return nil }
        let digest = "sha256:" + SHA256.hex(hasher.finalize())
        guard size > limit else {
            return FingerprintOutput(text: Fingerprint.text(of: kept), digest: digest, size: size, isWhole: true)
        }
        // Whole lines only, when there is a line end to cut at.
        var head = kept.prefix(limit)
        if let lastNewline = head.lastIndex(of: 0x0A) { head = head[...lastNewline] }
        return FingerprintOutput(text: Fingerprint.text(of: Array(head)), digest: digest, size: size, isWhole: false)
    }
}
