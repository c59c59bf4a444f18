import Foundation
import RehearseCore
import RehearseEngine
import RehearseReports
import RehearseRunner
import RehearseStore
import Testing

/// Another Swift program rehearsing a plan with the library products alone: real shell steps,
/// a real history, the same run read back and rendered.
@Suite struct RehearseAsALibraryTests {
    @Test func aProgramRehearsesAPlanInProcess() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-library-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("Rehearsals"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("Rehearsals/release.yml").path
        try Data("""
            strategy: custom
            budget: { rollback: 30s }
            targets:
              copy: { env: { STATE: ../state } }
            checks:
              restored: [ { name: nothing left, run: 'test ! -e "$STATE"' } ]
            fingerprint: 'ls .. | grep -c state || true'
            steps:
              create: { run: 'mkdir "$STATE"', rollback: 'rmdir "$STATE"' }
              fill: { run: 'echo v2 > "$STATE/version"', rollback: 'rm "$STATE/version"', needs: create }
            """.utf8).write(to: URL(fileURLWithPath: file))

        let loaded = PlanFile.load(file)
        let plan = try #require(loaded.plan, "\(loaded.diagnostics)")
        let (history, _) = try await HistoryAccess.open(folder.appendingPathComponent(".rehearse/history.sqlite").path)
        let engine = RehearsalEngine()
        #expect(engine.problems([plan], RehearsalRequest()).isEmpty)
        let run = try await engine.rehearse(plan, RehearsalRequest(target: "copy", jobs: 2), history: history)

        #expect(run.status == .passed)
        #expect(run.activities(.forward).map(\.name) == ["create", "fill"])
        #expect(run.activities(.rollback).map(\.name) == ["fill", "create"])
        #expect(run.fingerprintBefore == run.fingerprintAfter)
        #expect(try await history.run(id: run.id) == run)
        let xml = JUnitReport.render([run])
        #expect(xml.contains(#"<testcase name="rollback within budget""#))
        let json = try JSONDecoder().decode(RunsDocument.self, from: Data(HistoryJSON.report([run]).utf8))
        #expect(json.runs.first?.details?.activities.count == run.activities.count)
    }
}
