import Foundation
import RehearseCore
import RehearseTestSupport
import Testing

/// Every plan under Fixtures/plans: valid ones load cleanly, invalid ones give exactly the
/// diagnostics in their `.expected` file (`line:col: severity: message`, reviewed by hand).
@Suite struct FixturePlanTests {
    @Test(arguments: Fixtures.plans(in: "plans/valid"))
    func validFixtureLoads(name: String) throws {
        let result = PlanFile.load(Fixtures.path("plans/valid/\(name)"))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.plan != nil)
    }

    @Test(arguments: Fixtures.plans(in: "plans/invalid"))
    func invalidFixtureGivesExpectedDiagnostics(name: String) throws {
        let path = Fixtures.path("plans/invalid/\(name)")
        let result = PlanFile.load(path)
        #expect(result.plan == nil)
        let expectedFile = path.replacingOccurrences(of: ".yml", with: ".expected")
        let expected = try String(contentsOfFile: expectedFile, encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let actual = result.diagnostics.map { diagnostic in
            let location = diagnostic.location.line > 0 ? "\(diagnostic.location.line):\(diagnostic.location.column): " : ""
            return "\(location)\(diagnostic.severity.rawValue): \(diagnostic.message)"
        }
        #expect(actual == expected)
        // Every diagnostic names the file it is about.
        #expect(result.diagnostics.allSatisfy { $0.location.file == path })
    }

    /// The parameterised tests above pass vacuously if the fixtures go missing: count them.
    @Test func theFixturesAreThere() {
        #expect(Fixtures.plans(in: "plans/valid") == ["blue-green.yml", "custom.yml", "cut-and-fill.yml", "dual-write.yml", "in-place.yml"])
        #expect(Fixtures.plans(in: "plans/invalid").count == 17)
    }

    @Test func everyInvalidFixtureHasExpectations() {
        let plans = Fixtures.plans(in: "plans/invalid")
        #expect(plans.count >= 15)
        for plan in plans {
            let expected = Fixtures.path("plans/invalid/\(plan)").replacingOccurrences(of: ".yml", with: ".expected")
            #expect(FileManager.default.fileExists(atPath: expected), "missing \(expected)")
        }
    }
}
