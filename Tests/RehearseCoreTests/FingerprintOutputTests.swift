import RehearseCore
import Testing

/// Fingerprints kept in part compare by digest, and fail closed when they cannot be compared.
@Suite struct FingerprintOutputTests {
    static let settings = Fingerprint(command: Command(run: "./digest", location: SourceLocation(file: "p.yml", line: 1, column: 1)),
                                      ignore: [Fingerprint.Pattern("^token ", location: SourceLocation(file: "p.yml", line: 2, column: 1))])

    func part(_ text: String, digest: String?, size: Int = 5_000_000) -> FingerprintOutput {
        FingerprintOutput(text: text, digest: digest, size: size, isWhole: false)
    }

    @Test func equalDigestsMatchWhateverTheKeptTexts() {
        let compared = FingerprintComparison(before: part("a\n", digest: "sha256:1"), after: part("a\n", digest: "sha256:1"), settings: Self.settings)
        #expect(!compared.differs)
        #expect(!compared.comparesNothing)
        #expect(compared.diff.isEmpty)
    }

    @Test func differentDigestsDifferThoughTheKeptTextsAreAlike() {
        let compared = FingerprintComparison(before: part("a\n", digest: "sha256:1"), after: part("a\n", digest: "sha256:2"), settings: Self.settings)
        #expect(compared.differs)
        #expect(compared.unaccepted.count == 1)
        #expect(compared.unaccepted.first?.text.contains("5000000 bytes before, 5000000 after") == true)
    }

    @Test func aDifferenceInTheKeptTextsIsShownToo() {
        let compared = FingerprintComparison(before: part("a\nb\n", digest: "sha256:1"), after: part("a\nc\n", digest: "sha256:2"), settings: Self.settings)
        #expect(compared.diff.lines.filter { $0.kind != .context }.map(\.text).prefix(2) == ["b", "c"])
        #expect(compared.unaccepted.count == 3)
    }

    /// A text from an older run has no digest: against an output kept in part it cannot be
    /// shown equal, so it differs (never a false match).
    @Test func aMissingDigestNeverMatches() {
        let old = FingerprintOutput("a\n")
        #expect(old.isWhole && old.digest == nil && old.size == 2)
        #expect(FingerprintComparison(before: old, after: part("a\n", digest: "sha256:1"), settings: nil).differs)
        #expect(FingerprintComparison(before: part("a\n", digest: nil), after: part("a\n", digest: nil), settings: nil).differs)
        // Two whole texts compare as texts, digests or not.
        #expect(!FingerprintComparison(before: old, after: FingerprintOutput(text: "a\n", digest: "sha256:9", size: 2, isWhole: true),
                                       settings: nil).differs)
    }

    @Test func everyLineIgnoredComparesNothing() {
        let nothing = part("token 1\n", digest: FingerprintOutput.digestOfNothing)
        let compared = FingerprintComparison(before: nothing, after: nothing, settings: Self.settings)
        #expect(compared.comparesNothing)
        #expect(!FingerprintComparison(before: nothing, after: nothing, settings: nil).comparesNothing)
    }

    /// A byte that is no UTF-8 shows as `\xFF`, as the four characters do: the texts are alike,
    /// the digests are not, and the digests decide.
    @Test func wholeOutputsAlikeAsTextsButNotAsBytesDiffer() {
        let byte = FingerprintOutput(text: "v=\\xFF\n", digest: "sha256:1", size: 4, isWhole: true)
        let characters = FingerprintOutput(text: "v=\\xFF\n", digest: "sha256:2", size: 7, isWhole: true)
        let compared = FingerprintComparison(before: byte, after: characters, settings: nil)
        #expect(compared.differs)
        #expect(compared.unaccepted.first?.text.contains("differ in bytes their text does not show") == true)
        #expect(compared.unaccepted.first?.text.contains("4 bytes before, 7 after") == true)
        #expect(!FingerprintComparison(before: byte, after: byte, settings: nil).differs)
    }

    /// A line longer than any an `ignore` pattern may drop is compared, matched or not.
    @Test func aVeryLongLineIsNeverIgnored() {
        let long = "token " + String(repeating: "x", count: Fingerprint.longestIgnorableLine)
        #expect(Self.settings.comparedLines("token 1\n\(long)\nrow\n") == [long, "row"])
    }
}
