import Foundation
import RehearseCore

/// What the history keeps beside a fingerprint's text (its column holds the text as kept): the
/// whole output's size, its digest, and whether the text is all of it. Stored for the three
/// fingerprints of a run as one JSON object in `run.fingerprints_json`.
struct FingerprintFacts: Codable, Hashable {
    var sha256: String?
    var bytes: Int
    var whole: Bool

    init(_ output: FingerprintOutput) {
        sha256 = output.digest
        bytes = output.size
        whole = output.isWhole
    }

    /// The facts of the fingerprints a run has, by `before`, `after` and `control`.
    static func of(_ fingerprints: RunFingerprints) -> [String: FingerprintFacts] {
        var facts: [String: FingerprintFacts] = [:]
        facts["before"] = fingerprints.before.map(FingerprintFacts.init)
        facts["after"] = fingerprints.after.map(FingerprintFacts.init)
        facts["control"] = fingerprints.control.map(FingerprintFacts.init)
        return facts
    }

    /// The fingerprints of a row: each text with its facts, or whole when it has none (a run
    /// recorded before version 8).
    static func fingerprints(texts: (before: String?, after: String?, control: String?), facts: [String: FingerprintFacts]) -> RunFingerprints {
        func output(_ text: String?, _ key: String) -> FingerprintOutput? {
            guard let text else { return nil }
            guard let known = facts[key] else { return FingerprintOutput(text) }
            return FingerprintOutput(text: text, digest: known.sha256, size: known.bytes, isWhole: known.whole)
        }
        return RunFingerprints(before: output(texts.before, "before"), after: output(texts.after, "after"),
                               control: output(texts.control, "control"))
    }
}

extension HistoryStore {
    static func encodeFingerprintFacts(_ facts: [String: FingerprintFacts]) -> String? {
        guard !facts.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(facts)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Unreadable facts read as none: the texts then count as whole, and a text that is only the
    /// start of an output compares unequal to any whole output (fail closed, never a false match).
    static func decodeFingerprintFacts(_ json: String?) -> [String: FingerprintFacts] {
        guard let json else { return [:] }
        return (try? JSONDecoder().decode([String: FingerprintFacts].self, from: Data(json.utf8))) ?? [:]
    }
}
