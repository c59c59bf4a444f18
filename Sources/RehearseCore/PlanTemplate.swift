/// The commented plan `rehearse init` writes: one step per slot of a strategy, chained in the
/// strategy's order, with placeholder commands that fail loudly until an operator replaces them.
///
/// The text passes validation as written, so an operator can `rehearse check` it at once.
public enum PlanTemplate {
    public static func text(strategy: Strategy, name: String) -> String {
        var lines: [String] = []
        func add(_ line: String = "") { lines.append(line) }

        let article = strategy.id.first.map { "aeiou".contains($0) } == true ? "an" : "a"
        add("# \(name): \(article) \(strategy.id) go-live, rehearsed with `rehearse --target copy`.")
        add("#")
        add("# \(strategy.id): \(strategy.summary).")
        add("# Rollback: \(strategy.rollbackShape).")
        add("#")
        add("# Replace every TODO command below with the real one. Until then each one fails loudly, so")
        add("# a rehearsal of this plan cannot pass by accident. Commands run with /bin/sh -c from this")
        add("# file's folder; a target's env reaches them as environment variables, as do REHEARSE_RUN_ID,")
        add("# REHEARSE_STEP, REHEARSE_PHASE and REHEARSE_TARGET. Check the plan with `rehearse check`.")
        add("name: \(name)")
        add("strategy: \(strategy.id)")
        add()
        add("budget:")
        add("  rollback: 4m        # the CI gate: a slower rollback fails the rehearsal (exit 1)")
        add("  step-timeout: 5m    # the timeout of each step and check that sets none")
        add()
        add("targets:")
        add("  copy:               # the copy of the live environment that rehearsals run against")
        add("    env:")
        add("      APP_ROOT: ../.rehearse/copy")
        add("    # setup: ./provision-copy      # make or refresh the copy; timed, never counted as rollback")
        add("    # teardown: ./remove-copy")
        add("  production:")
        add("    protected: true   # never run without --approve production")
        add("    env:")
        add("      APP_ROOT: /srv/\(name)")
        add()
        add("# A command whose output identifies the copy's state (a digest of a database dump, say).")
        add("# Taken before the forward steps and after the rollback; any difference fails the rehearsal.")
        add("# fingerprint: ./state-digest")
        add()
        add("checks:")
        add("  preflight:          # before anything runs; a failure aborts with nothing to roll back")
        add("    - name: copy is up")
        add("      run: \(todo("check that the copy is up and healthy"))")
        add("  smoke:              # after the forward steps: the go-live's own verification")
        add("    - name: new release answers")
        add("      run: \(todo("check that the new release serves traffic"))")
        add("  restored:           # after the rollback: the previous release is healthy again")
        add("    - name: previous release answers")
        add("      run: \(todo("check that the previous release serves traffic again"))")
        add()
        add("steps:")
        let slots = strategy.slots.isEmpty ? customSlots : strategy.slots
        var previous: String?
        for slot in slots {
            add("  # \(slot.role) (\(slot.isRequired ? "required" : "optional")): \(slot.forward).")
            if !slot.rollback.isEmpty { add("  # Rollback: \(slot.rollback).") }
            add("  \(slot.role):")
            if !strategy.slots.isEmpty { add("    role: \(slot.role)") }
            if let previous { add("    needs: [\(previous)]") }
            add("    run: \(todo(slot.forward))")
            switch slot.reversal {
            case .required:
                add("    rollback: \(todo(slot.rollback))")
            case .optional:
                add("    rollback: none    # or the command that undoes it")
            case .pointOfNoReturn:
                add("    irreversible: true    # a point of no return: rehearsals never run it")
            }
            add("    # timeout: 2m")
            add("    # stop: ./cancel-work   # when it is stopped: cancel what it asked a server to do")
            add()
            previous = slot.role
        }
        while lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A shell command that explains what to write instead, on stderr, and fails.
    static func todo(_ what: String) -> String {
        let message = "TODO: \(what)"
        let shell = "echo \"\(message.replacingAll("\"", with: "\\\""))\" >&2; exit 1"
        return "'" + shell.replacingAll("'", with: "''") + "'"
    }

    private static let customSlots: [Strategy.Slot] = [
        .init("prepare", required: true, reversal: .required,
              forward: "prepare the change", rollback: "undo the preparation"),
        .init("apply", required: true, reversal: .required,
              forward: "apply the change", rollback: "revert the change"),
    ]
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
