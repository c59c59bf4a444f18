import Glibc

/// The regular expressions a plan's fingerprint settings use (`ignore`, `accept`): POSIX
/// extended regular expressions, as `grep -E` reads them, matched by the C library's matcher.
/// It has no backtracking blow-up on nested repetition (`^(a+)+$` against a long line of `a`s),
/// so a pattern in a plan cannot hang a rehearsal after its rollback.
enum LinePattern {
    /// nil when `source` compiles; otherwise what is wrong with it.
    static func problem(_ source: String) -> String? {
        var regex = regex_t()
        let code = regcomp(&regex, source, REG_EXTENDED | REG_NOSUB)
        defer { if code == 0 { regfree(&regex) } }
        guard code != 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: 256)
        regerror(code, &regex, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Runs `body` with a matcher for `sources` (patterns that do not compile never match):
    /// `matcher(line)` is the index of the first pattern that matches the line, or nil.
    static func withMatcher<T>(_ sources: [String], _ body: ((String) -> Int?) -> T) -> T {
        let compiled = UnsafeMutablePointer<regex_t>.allocate(capacity: max(1, sources.count))
        var valid = [Bool](repeating: false, count: sources.count)
        for (index, source) in sources.enumerated() {
            valid[index] = regcomp(compiled + index, source, REG_EXTENDED | REG_NOSUB) == 0
        }
        defer {
            for index in sources.indices where valid[index] { regfree(compiled + index) }
            compiled.deallocate()
        }
        return body { line in
            line.withCString { text in
                sources.indices.first { valid[$0] && regexec(compiled + $0, text, 0, nil, 0) == 0 }
            }
        }
    }
}
