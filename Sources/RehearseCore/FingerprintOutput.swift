/// What a fingerprint command printed, as a run keeps it: the text whole when the output is at
/// most ``keptBytes``, else its first lines up to that many bytes; and always the size of the
/// whole output and a digest of the lines it compares (`ignore` applied). Two outputs of any size
/// compare exactly by their digests while memory, the history and the reports stay bounded; the
/// whole output stays in the run's logs (the `…-fingerprint.out` files).
public struct FingerprintOutput: Sendable, Hashable {
    /// Most bytes of an output a run keeps as text: past it, the first lines up to this size.
    public static let keptBytes = 1 << 20

    /// The digest of no compared line at all: every line ignored (or nothing printed).
    public static let digestOfNothing = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The output as text (``Fingerprint/text(of:)``): whole, or its first lines.
    public var text: String
    /// `sha256:` of the compared lines: of the output's bytes when the plan ignores no line, else
    /// of the bytes of each line that is not ignored, each followed by a newline. Nil in runs
    /// recorded before digests were kept (their text is whole).
    public var digest: String?
    /// Bytes of the whole output.
    public var size: Int
    /// The text is the whole output.
    public var isWhole: Bool

    public init(text: String, digest: String?, size: Int, isWhole: Bool) {
        self.text = text
        self.digest = digest
        self.size = size
        self.isWhole = isWhole
    }

    /// A whole output known only as text (a run recorded before digests, a test).
    public init(_ text: String) {
        self.init(text: text, digest: nil, size: text.utf8.count, isWhole: true)
    }
}

/// A run's fingerprints: before the forward steps, after the rollback, and the control copy's.
public struct RunFingerprints: Sendable, Hashable {
    public var before: FingerprintOutput?
    public var after: FingerprintOutput?
    /// With a `window`: the control copy's (the old version, never deployed, with the window's
    /// writes), which the state after the rollback must equal.
    public var control: FingerprintOutput?

    public init(before: FingerprintOutput? = nil, after: FingerprintOutput? = nil, control: FingerprintOutput? = nil) {
        self.before = before
        self.after = after
        self.control = control
    }
}

extension FingerprintComparison {
    /// Two outputs compared, either of which may be kept only in part. Whole outputs compare
    /// line by line as texts. Otherwise equal digests mean the same compared lines; different
    /// ones (or a missing one) differ, fail closed: the diff shows what the kept texts show and a
    /// line says that the outputs differ past them, and no `accept` entry can cover what was
    /// never compared.
    public init(before: FingerprintOutput, after: FingerprintOutput, settings: Fingerprint?) {
        if before.isWhole, after.isWhole {
            self.init(before: before.text, after: after.text, settings: settings)
            // Texts alike, bytes not: what the text cannot show (a byte that is no UTF-8, shown
            // as `\xNN`, against those four characters). The digests decide.
            if diff.isEmpty, let digest = before.digest, let other = after.digest, digest != other {
                let note = LineDiff.Line(
                    kind: .added,
                    text: "(the outputs differ in bytes their text does not show, such as invalid UTF-8 written as \\xNN: "
                        + "\(before.size) bytes before, \(after.size) after; compare the .out files in the run's logs)")
                diff.lines.append(note)
                unaccepted.append(note)
                comparesNothing = false
            }
            return
        }
        if let digest = before.digest, digest == after.digest {
            self.init(before: "", after: "", settings: nil)
            let ignores = !(settings?.ignore.isEmpty ?? true)
            comparesNothing = ignores && digest == FingerprintOutput.digestOfNothing && (before.size > 0 || after.size > 0)
            return
        }
        self.init(before: before.text, after: after.text, settings: settings)
        comparesNothing = false
        let shown = FingerprintOutput.keptBytes / (1 << 20)
        let note = LineDiff.Line(
            kind: .added,
            text: "(the whole outputs differ, and only their first \(shown) MiB is kept and shown: \(before.size) bytes before, "
                + "\(after.size) after; compare the .out files in the run's logs)")
        diff.lines.append(note)
        unaccepted.append(note)
    }
}
