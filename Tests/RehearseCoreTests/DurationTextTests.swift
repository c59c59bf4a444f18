import RehearseCore
import Testing

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("90s", .seconds(90)),
        ("4m", .seconds(240)),
        ("1h30m", .seconds(5400)),
        ("1.5s", .milliseconds(1500)),
        ("2m30s", .seconds(150)),
        (" 10s ", .seconds(10)),
        ("0s", .zero),
    ])
    func parses(text: String, expected: Duration) throws {
        #expect(try DurationText.parse(text) == expected)
    }

    @Test func rejectsWhatIsNotADuration() {
        #expect(throws: DurationText.Problem.missingUnit("90")) { try DurationText.parse("90") }
        #expect(throws: DurationText.Problem.unknownUnit("d")) { try DurationText.parse("2d") }
        #expect(throws: DurationText.Problem.negative("-1m")) { try DurationText.parse("-1m") }
        #expect(throws: DurationText.Problem.empty) { try DurationText.parse("  ") }
        #expect(throws: DurationText.Problem.malformed("4 minutes")) { try DurationText.parse("4 minutes") }
        #expect(throws: DurationText.Problem.malformed("1.2.3s")) { try DurationText.parse("1.2.3s") }
        #expect(throws: DurationText.Problem.malformed("m")) { try DurationText.parse("m") }
    }

    /// Issue 14, item 9: ten `277777h` parts overflowed the nanoseconds the history stores (SIGILL).
    @Test func aDurationLongerThanAYearIsRefusedNotOverflowed() throws {
        let tenParts = String(repeating: "277777h", count: 10)
        #expect(throws: DurationText.Problem.tooLong(tenParts)) { try DurationText.parse(tenParts) }
        #expect(throws: DurationText.Problem.tooLong("8761h")) { try DurationText.parse("8761h") }
        #expect(throws: DurationText.Problem.tooLong("8760h1ms")) { try DurationText.parse("8760h1ms") }
        let huge = String(repeating: "9", count: 400) + "s"
        #expect(throws: DurationText.Problem.malformed(huge)) { try DurationText.parse(huge) }
        #expect(try DurationText.parse("8760h") == DurationText.longest)
        #expect("\(DurationText.Problem.tooLong("8761h"))".contains("longer than 8760h"))
    }

    @Test func compactFormRoundTrips() throws {
        for text in ["250ms", "4m", "1h30m", "1m30s", "45s"] {
            #expect(DurationText.compact(try DurationText.parse(text)) == text)
        }
    }

    @Test func preciseFormShowsTenths() {
        #expect(DurationText.precise(.milliseconds(112_400)) == "1m52.4s")
        #expect(DurationText.precise(.seconds(31)) == "31.0s")
        #expect(DurationText.precise(.milliseconds(412)) == "412ms")
        #expect(DurationText.precise(.milliseconds(-1500)) == "-1.5s")
        #expect(DurationText.precise(.seconds(3725)) == "1h2m5.0s")
    }

    @Test func nanosecondsAreExact() {
        #expect(Duration.seconds(2).nanoseconds == 2_000_000_000)
        #expect(Duration.milliseconds(3).nanoseconds == 3_000_000)
    }
}
