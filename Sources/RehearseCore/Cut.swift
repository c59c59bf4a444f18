/// Where a rehearsal makes the go-live fail on purpose, to rehearse the rollback from that point.
///
/// - `--fail-at STEP`: STEP runs to completion, then counts as failed: the trigger comes when it
///   ends, and STEP is rolled back with everything applied before it.
/// - `--cut-before STEP`: the trigger comes just before STEP would start: STEP and every step that
///   needs it never run and are never rolled back.
///
/// Steps running on other branches at the trigger are stopped, as on a real failure.
public struct Cut: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case failAt = "fail-at"
        case before = "cut-before"
    }

    public var kind: Kind
    public var step: String

    public init(_ kind: Kind, _ step: String) {
        self.kind = kind
        self.step = step
    }

    public static func failAt(_ step: String) -> Cut { Cut(.failAt, step) }
    public static func before(_ step: String) -> Cut { Cut(.before, step) }

    /// As on the command line: `--fail-at migrate`, `--cut-before switch`.
    public var description: String { "--\(kind.rawValue) \(step)" }

    /// For a verdict or a matrix: `fail at migrate`, `cut before switch`.
    public var phrase: String {
        switch kind {
        case .failAt: "fail at \(step)"
        case .before: "cut before \(step)"
        }
    }
}
