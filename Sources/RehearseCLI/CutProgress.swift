import RehearseCore
import RehearseReports
import RehearseRunner

/// The progress of one cut of an every-cut rehearsal: a line when it starts, its verdict when it
/// ends. Several cuts may run at once, so each prints whole lines that say which cut they are.
struct CutProgress: RunObserver {
    let console: Console
    let style: TextStyle
    let cut: Cut?
    let copy: Int
    let copies: Int

    func handle(_ event: RunEvent) async {
        switch event {
        case .runStarted(let run, _):
            var line = style.dim("▶ ") + CutMatrixText.name(cut) + style.dim(" (run \(run.id)")
            line += copies > 1 ? style.dim(", copy \(copy))") : style.dim(")")
            console.out(line)
        case .runFinished(let run):
            // Here it is the cut that matters, not the plan.
            console.out(VerdictText(style: style).render(run, title: CutMatrixText.name(cut)))
        case .activityStarted, .activityFinished, .rollbackTriggered, .fingerprintTaken, .controlFingerprintTaken:
            break
        }
    }
}
