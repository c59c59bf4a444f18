import Crypto
import Foundation
import RehearseCore

/// Reads a fingerprint's captured output a mebibyte at a time into what a run keeps of it
/// (``FingerprintOutput``): the first lines up to ``FingerprintOutput/keptBytes`` as text, the
/// whole size, and the digest of the compared lines. A 300 MB output costs a few mebibytes of
/// memory, never its size (only a single line is ever held whole, when the plan ignores lines).
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
        var line: [UInt8] = []
        func hashLine(_ bytes: [UInt8], _ compared: (String) -> Bool) {
            let text = Fingerprint.text(of: bytes)
            if compared(text) { hasher.update(data: Array(text.utf8) + [0x0A]) }
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
                    var start = chunk.startIndex
                    while let newline = chunk[start...].firstIndex(of: 0x0A) {
                        line += chunk[start..<newline]
                        hashLine(line, compared)
                        line.removeAll(keepingCapacity: true)
                        start = newline + 1
                    }
                    line += chunk[start...]
                }
            } catch {
                return false
            }
            if let compared, !line.isEmpty { hashLine(line, compared) }
            return true
        }
        guard settings.map({ $0.withComparedLineFilter(readAll) }) ?? readAll(nil) else { return nil }
        let digest = "sha256:" + hasher.finalize().map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        guard size > limit else {
            return FingerprintOutput(text: Fingerprint.text(of: kept), digest: digest, size: size, isWhole: true)
        }
        // Whole lines only, when there is a line end to cut at.
        var head = kept.prefix(limit)
        if let lastNewline = head.lastIndex(of: 0x0A) { head = head[...lastNewline] }
        return FingerprintOutput(text: Fingerprint.text(of: Array(head)), digest: digest, size: size, isWhole: false)
    }
}
