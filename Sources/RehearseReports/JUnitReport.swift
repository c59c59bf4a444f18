import Foundation
public import RehearseCore

/// JUnit XML for CI systems' test views, valid against the Apache Ant JUnit schema that their
/// readers follow: one test suite per rehearsal, a test case per step phase and per check, and
/// "rollback within budget", which fails when the rollback took longer than its budget. The runs
/// of an every-cut group make one test suite instead, with a test case per cut.
public enum JUnitReport {
    public static func render(_ runs: [Run]) -> String {
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n<testsuites>\n"
        var groupsDone = Set<String>()
        var id = 0
        for run in runs {
            if let group = run.group {
                guard groupsDone.insert(group.id).inserted else { continue }
                xml += groupSuite(runs.filter { $0.group?.id == group.id }, group: group, id: id)
            } else {
                xml += suite(run, id: id)
            }
            id += 1
        }
        return xml + "</testsuites>\n"
    }

    /// An every-cut group: a test case per cut, failing when that cut's rehearsal did not pass.
    private static func groupSuite(_ runs: [Run], group: RunGroup, id: Int) -> String {
        guard let first = runs.first else { return "" }
        let start = runs.map(\.startedAt).min() ?? first.startedAt
        let end = runs.compactMap(\.endedAt).max() ?? start
        // Cuts the group had to rehearse that never ran (interrupted, a fault): failures too.
        let planned = CutPoints.planned(for: group, planText: first.planText, file: first.planFile, name: first.planName) ?? runs.map(\.cut)
        let notRun = group.kind == .repeat
            ? Array(repeating: runs.first?.cut, count: max(0, group.size - runs.count))
            : planned.filter { cut in !runs.contains { $0.cut == cut } }
        let failures = runs.filter { $0.status != .passed }.count + notRun.count
        var xml = "  <testsuite name=\(attribute(first.planName + " every cut")) package=\"rehearse\" id=\"\(id)\""
        xml += " timestamp=\"\(TimestampText.utc(start))\" hostname=\(attribute(first.host.isEmpty ? "localhost" : first.host))"
        xml += " tests=\"\(runs.count + notRun.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\" time=\"\(seconds(.seconds(max(0, end.timeIntervalSince(start)))))\">\n"
        xml += "    <properties>\n"
        var properties: [(String, String)] = [
            ("group", group.id), ("rehearsals", String(group.size)), ("target", first.target), ("strategy", first.strategy),
            ("plan", first.planFile), ("plan-hash", first.planHash), ("budget", DurationText.compact(first.budget)),
        ]
        if let shard = group.shard { properties.append(("shard", shard)) }
        if let worst = CutMatrixText.worst(runs) {
            properties.append(("worst", CutMatrixText.name(worst.cut) + ": " + worst.status.rawValue
                               + (worst.rollback.map { ", rollback " + DurationText.precise($0) } ?? "")))
        }
        for (name, value) in properties {
            xml += "      <property name=\(attribute(name)) value=\(attribute(value))/>\n"
        }
        xml += "    </properties>\n"
        for run in runs {
            let name = "rollback from " + CutMatrixText.name(run.cut) + " (run \(run.id))"
            xml += "    <testcase name=\(attribute(name)) classname=\(attribute(first.planName + ".every-cut")) time=\"\(seconds(run.rollback ?? .zero))\""
            if run.status == .passed {
                xml += "/>\n"
                continue
            }
            var message = run.status.rawValue
            if let rollback = run.rollback { message += ": rollback \(DurationText.precise(rollback)) of \(DurationText.compact(run.budget)) budget" }
            var detail = [run.coverage] + [run.trigger.map { "rollback trigger: \($0.description)" }].compactMap { $0 }
            detail += run.reasons.map(\.description)
            if !run.leftApplied.isEmpty { detail.append("left applied: " + run.leftApplied.joined(separator: ", ")) }
            for activity in run.activities where !activity.status.isSuccess && activity.ran {
                detail.append("\(activity.kind.label) \(activity.name): \(activity.summary)")
                if let tail = activity.outputTail, !tail.isEmpty { detail.append(tail) }
            }
            xml += ">\n      <failure message=\(attribute(message)) type=\(attribute(run.status.rawValue))>\(text(detail.joined(separator: "\n")))</failure>\n    </testcase>\n"
        }
        for cut in notRun {
            let name = "rollback from " + CutMatrixText.name(cut)
            xml += "    <testcase name=\(attribute(name)) classname=\(attribute(first.planName + ".every-cut")) time=\"0.000\">\n"
            xml += "      <failure message=\"not run\" type=\"not-run\">the every-cut group stopped before this cut ran</failure>\n    </testcase>\n"
        }
        let matrix = CutMatrixText().render(plan: first.planName, group: group, cuts: planned, runs: runs)
        xml += "    <system-out>\(text(matrix))</system-out>\n"
        xml += "    <system-err></system-err>\n"
        return xml + "  </testsuite>\n"
    }

    private struct Case {
        var name: String
        var classname: String
        var time: Duration
        /// nil passes; otherwise (kind, message, detail).
        var failure: (type: String, message: String, detail: String)?
        var skipped: String?
    }

    private static func suite(_ run: Run, id: Int) -> String {
        let cases = testCases(run)
        let failures = cases.filter { $0.failure != nil }.count
        let skipped = cases.filter { $0.skipped != nil }.count
        let total = (run.endedAt ?? run.startedAt).timeIntervalSince(run.startedAt)
        var xml = "  <testsuite name=\(attribute(run.planName)) package=\"rehearse\" id=\"\(id)\""
        xml += " timestamp=\"\(TimestampText.utc(run.startedAt))\" hostname=\(attribute(run.host.isEmpty ? "localhost" : run.host))"
        xml += " tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skipped)\" time=\"\(seconds(.seconds(max(0, total))))\">\n"
        xml += "    <properties>\n"
        var properties: [(String, String)] = [
            ("run", String(run.id)), ("target", run.target), ("strategy", run.strategy), ("plan", run.planFile),
            ("plan-hash", run.planHash), ("outcome", run.status.rawValue), ("budget", DurationText.compact(run.budget)),
            ("kind", run.kind.rawValue),
        ]
        if let approval = run.approval { properties.append(("approved-by", "\(approval.user)@\(approval.host)")) }
        if let rollback = run.rollback { properties.append(("rollback", DurationText.precise(rollback))) }
        if let trigger = run.trigger { properties.append(("trigger", trigger.description)) }
        if let commit = run.gitCommit { properties.append(("git-commit", commit)) }
        for (name, value) in properties {
            xml += "      <property name=\(attribute(name)) value=\(attribute(value))/>\n"
        }
        xml += "    </properties>\n"
        for testCase in cases {
            xml += "    <testcase name=\(attribute(testCase.name)) classname=\(attribute(testCase.classname)) time=\"\(seconds(testCase.time))\""
            if let failure = testCase.failure {
                xml += ">\n      <failure message=\(attribute(failure.message)) type=\(attribute(failure.type))>\(text(failure.detail))</failure>\n    </testcase>\n"
            } else if let skipped = testCase.skipped {
                xml += ">\n      <skipped message=\(attribute(skipped))/>\n    </testcase>\n"
            } else {
                xml += "/>\n"
            }
        }
        let summary = ([run.trigger.map { "rollback trigger: \($0.description)" }].compactMap { $0 } + run.reasons.map(\.description)
            + (run.leftApplied.isEmpty ? [] : ["left applied: " + run.leftApplied.joined(separator: ", ")])).joined(separator: "\n")
        xml += "    <system-out>\(text(summary))</system-out>\n"
        xml += "    <system-err></system-err>\n"
        return xml + "  </testsuite>\n"
    }

    private static func testCases(_ run: Run) -> [Case] {
        var cases: [Case] = []
        for activity in run.activities {
            let phase = activity.kind.label
            let name: String
            switch activity.kind {
            case .preflight, .smoke, .restored, .kept: name = "\(phase) check: \(activity.name)"
            case .windowWrite: name = "window write: \(activity.name)"
            case .fingerprintBefore: name = activity.name == "fingerprint" ? "fingerprint before" : activity.name
            case .fingerprintAfter: name = "fingerprint after"
            case .setup, .teardown: name = "\(phase) of target \(activity.name)"
            case .forward, .rollback: name = "\(phase) \(activity.name)"
            case .stop: name = "stop hook of \(activity.name)"
            }
            var testCase = Case(name: name, classname: "\(run.planName).\(phase)", time: activity.duration ?? .zero)
            let detail = activity.outputTail ?? activity.startError ?? ""
            switch activity.status {
            case .passed:
                break
            case .nothingToRun:
                testCase.skipped = "rollback: none"
            case .assumedDone:
                testCase.skipped = "assumed done by the operator (recover --assume-done)"
            case .injectedFailure:
                testCase.skipped = "--fail-at: a deliberate cut, counted as failed without running"
            case .stopped:
                testCase.skipped = "stopped by the rollback trigger"
            case .timedOut:
                testCase.failure = ("timed-out", "timed out after \(DurationText.precise(activity.duration ?? .zero))", detail)
            case .blocked:
                testCase.failure = ("blocked", "not run: a rollback it depends on failed; the step is left applied", "")
            case .abandoned:
                testCase.failure = ("abandoned", "not run: the rollback was abandoned; the step is left applied", "")
            case .inFlight, .running:
                testCase.failure = ("in-flight", "running when the harness stopped", "")
            case .failed:
                var message = "failed"
                if let code = activity.exitStatus { message = "exit \(code)" }
                if let signal = activity.signal { message = "killed by \(SignalName.of(signal))" }
                if let error = activity.startError { message = "could not start: \(error)" }
                testCase.failure = ("failed", message, detail)
            }
            cases.append(testCase)
        }
        if let comparison = run.fingerprintComparison {
            var testCase = Case(name: "fingerprint unchanged by the rehearsal", classname: "\(run.planName).verdict", time: .zero)
            if comparison.differs {
                let diff = comparison.diff
                testCase.failure = ("fingerprint",
                                    "the state after the rollback differs from the state before: \(diff.removedCount) lines removed, \(diff.addedCount) added",
                                    PrintableText.of(diff.unifiedExcerpt(limit: 200))
                                        + (run.logsFolder.map { "\nfull before, after and diff: \($0)/fingerprint.diff" } ?? ""))
            }
            cases.append(testCase)
        }
        var budget = Case(name: "rollback within budget", classname: "\(run.planName).verdict", time: run.rollback ?? .zero)
        if let rollback = run.rollback {
            if rollback > run.budget {
                budget.failure = ("over-budget", "rollback took \(DurationText.precise(rollback)), budget \(DurationText.compact(run.budget))",
                                  "over by \(DurationText.precise(rollback - run.budget))")
            }
        } else {
            budget.skipped = "no rollback was timed (the rehearsal stopped before its forward steps)"
        }
        cases.append(budget)
        return cases
    }

    /// Seconds with millisecond precision, as JUnit readers expect: `0.031`.
    static func seconds(_ duration: Duration) -> String {
        let ms = max(0, duration.nanoseconds / 1_000_000)
        let fraction = String(ms % 1000)
        return "\(ms / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    static func attribute(_ value: String) -> String {
        "\"" + escape(value, quotes: true) + "\""
    }

    static func text(_ value: String) -> String {
        escape(value, quotes: false)
    }

    /// XML-escapes, and drops what XML 1.0 cannot carry at all (control characters but tab and newline).
    static func escape(_ value: String, quotes: Bool) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where quotes: out += "&quot;"
            case "\n" where quotes: out += "&#10;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
