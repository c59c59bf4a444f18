import ArgumentParser

/// A size in bytes as people write it: `512`, `64KB`, `16MB`, `1GB` (binary multiples: KB and KiB
/// are both 1024 bytes), or `none` for no limit.
enum SizeArgument {
    /// The largest size accepted: 1 TiB.
    static let maximum = 1 << 40

    /// Bytes, or nil for `none`.
    static func parse(_ text: String) throws -> Int? {
        let lowered = text.lowercased()
        if lowered == "none" { return nil }
        let units: [(String, Int)] = [("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("kb", 1 << 10), ("mb", 1 << 20),
                                      ("gb", 1 << 30), ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("b", 1)]
        var number = Substring(lowered)
        var multiple = 1
        if let (suffix, value) = units.first(where: { lowered.hasSuffix($0.0) }) {
            number = number.dropLast(suffix.count)
            multiple = value
        }
        guard !number.isEmpty, number.allSatisfy(\.isASCII), number.allSatisfy(\.isNumber), let value = Int(number) else {
            throw ValidationError("'\(text)' is not a size: write 512, 64KB, 16MB or 1GB (or none)")
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiple)
        guard !overflow, bytes <= maximum else { throw ValidationError("'\(text)' is more than 1 TiB") }
        guard bytes >= 1024 else { throw ValidationError("'\(text)' is less than 1KB: a log needs room for what went wrong") }
        return bytes
    }
}
