/// Mutants of plan files for fuzzing the parser: deterministic from a seed, so that a failing
/// mutant can be made again and shrunk by hand.
///
/// Each mutant applies one to four edits that plans get wrong in real life or that an attacker
/// would try: bytes flipped, dropped, inserted (YAML's own punctuation weighted up), lines
/// duplicated, swapped, re-indented or spliced in from another plan, the text cut short, and
/// values replaced with hostile ones (huge numbers and durations, aliases, deep nesting, control
/// characters, very long names).
public struct PlanMutator: Sendable {
    /// SplitMix64: small, fast, and the same everywhere.
    public struct Random: Sendable {
        var state: UInt64
        public init(seed: UInt64) { state = seed }
        public mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        public mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }
    }

    let corpus: [[UInt8]]

    public init(corpus: [String]) {
        self.corpus = corpus.map { Array($0.utf8) }
    }

    static let punctuation: [UInt8] = Array(":-{}[],\"'\n \t&*!|>#%@`?\\".utf8)
    static let hostileValues: [String] = [
        "277777h277777h277777h277777h277777h277777h277777h277777h277777h277777h", "9223372036854775807ms",
        "1e400s", "-1s", "0s", ".5s", "*anchor", "&anchor [*anchor, *anchor]", "!!binary AAAA", "~", "null", "[]", "{}",
        "\"\\e]0;title\\a\"", "\"line\\nbreak\"", "\"\\u202Egnp.exe\"", "\"::error::x\"", "\"##[error]x\"", "\"\\0\"",
        String(repeating: "[", count: 5_000), String(repeating: "n", count: 300), "{ run: true, run: false }",
        "\"" + String(repeating: "x", count: 140_000) + "\"",
    ]

    /// The `index`-th mutant of the corpus under `seed`.
    public func mutant(_ index: Int, seed: UInt64) -> [UInt8] {
        var random = Random(seed: seed &+ UInt64(index) &* 0x2545_F491_4F6C_DD1D)
        var bytes = corpus[random.below(corpus.count)]
        for _ in 0...random.below(4) {
            edit(&bytes, &random)
        }
        return bytes
    }

    private func edit(_ bytes: inout [UInt8], _ random: inout Random) {
        let at = random.below(bytes.count + 1)
        switch random.below(10) {
        case 0:  // flip a byte
            if at < bytes.count { bytes[at] ^= UInt8(truncatingIfNeeded: 1 << random.below(8)) }
        case 1:  // drop a run of bytes
            let length = 1 + random.below(16)
            bytes.removeSubrange(at..<min(bytes.count, at + length))
        case 2:  // insert YAML punctuation
            for _ in 0...random.below(3) { bytes.insert(Self.punctuation[random.below(Self.punctuation.count)], at: min(at, bytes.count)) }
        case 3:  // cut the text short
            bytes.removeSubrange(at..<bytes.count)
        default:
            var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
            guard !lines.isEmpty else { return }
            let line = random.below(lines.count)
            switch random.below(6) {
            case 0: lines.insert(lines[line], at: line)  // a repeated line: repeated keys
            case 1: lines.swapAt(line, random.below(lines.count))
            case 2: lines[line] = Array(repeating: UInt8(ascii: " "), count: random.below(6)) + lines[line].drop { $0 == UInt8(ascii: " ") }
            case 3:  // a line from another plan
                let other = corpus[random.below(corpus.count)].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                if !other.isEmpty { lines.insert(Array(other[random.below(other.count)]), at: line) }
            case 4:  // a value replaced with a hostile one
                if let colon = lines[line].firstIndex(of: UInt8(ascii: ":")) {
                    lines[line] = Array(lines[line][...colon]) + Array((" " + Self.hostileValues[random.below(Self.hostileValues.count)]).utf8)
                }
            default: lines.remove(at: line)
            }
            bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
        }
    }
}
