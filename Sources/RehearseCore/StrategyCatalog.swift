// The four deploy strategies operators rehearse, plus `custom`. Slot order is forward order;
// a rollback undoes filled slots in reverse dependency order.

extension Strategy {
    /// Bring the new release up beside the old one, then move traffic; rollback moves traffic back.
    public static let blueGreen = Strategy(
        id: "blue-green",
        summary: "run the new release beside the old one and move traffic between them",
        rollbackShape: "switch traffic back to the old side, then stop the idle new side; usually the fastest",
        slots: [
            Slot("deploy-idle", required: true, reversal: .required,
                 forward: "bring the new release up on the idle side",
                 rollback: "stop the idle side"),
            Slot("verify-idle", required: false, reversal: .optional,
                 forward: "check the idle side before it takes traffic",
                 rollback: "usually nothing (rollback: none)"),
            Slot("switch", required: true, reversal: .required,
                 forward: "route traffic to the new side",
                 rollback: "route traffic back to the old side"),
            Slot("retire-old", required: false, reversal: .pointOfNoReturn,
                 forward: "stop and remove the old side",
                 rollback: ""),
        ])

    /// Replace the running release where it stands; rollback redeploys the previous one.
    public static let inPlace = Strategy(
        id: "in-place",
        summary: "stop the old release, deploy the new one over it, migrate, start",
        rollbackShape: "stop, down-migrate or restore the backup, redeploy the previous release, start; usually the slowest",
        slots: [
            Slot("backup", required: true, reversal: .optional,
                 forward: "back up the data and the release about to be replaced",
                 rollback: "usually nothing (rollback: none), or remove the backup"),
            Slot("stop", required: true, reversal: .required,
                 forward: "stop the old release or enter maintenance",
                 rollback: "start the old release again, leave maintenance"),
            Slot("deploy", required: true, reversal: .required,
                 forward: "deploy the new release over the old one",
                 rollback: "redeploy the previous release"),
            Slot("migrate", required: false, reversal: .required,
                 forward: "migrate the schema or data up",
                 rollback: "migrate down, or restore the backup"),
            Slot("start", required: true, reversal: .required,
                 forward: "start the new release",
                 rollback: "stop the new release"),
            Slot("contract", required: false, reversal: .pointOfNoReturn,
                 forward: "remove what only the previous release needed (old columns, old files)",
                 rollback: ""),
        ])

    /// Write to old and new stores at once, then move reads; rollback moves reads back.
    public static let dualWrite = Strategy(
        id: "dual-write",
        summary: "write to the old and the new store at once, backfill, then move reads to the new store",
        rollbackShape: "switch reads back, disable dual writes, drop the new store",
        slots: [
            Slot("add-store", required: true, reversal: .required,
                 forward: "create the new store (table, database, bucket)",
                 rollback: "drop the new store"),
            Slot("enable-dual-writes", required: true, reversal: .required,
                 forward: "make every write go to both stores",
                 rollback: "write to the old store only"),
            Slot("backfill", required: true, reversal: .optional,
                 forward: "copy existing records into the new store",
                 rollback: "usually nothing: dropping the new store discards them (rollback: none)"),
            Slot("verify-parity", required: false, reversal: .optional,
                 forward: "check both stores hold the same records",
                 rollback: "usually nothing (rollback: none)"),
            Slot("switch-reads", required: true, reversal: .required,
                 forward: "read from the new store",
                 rollback: "read from the old store"),
            Slot("stop-old-writes", required: false, reversal: .pointOfNoReturn,
                 forward: "stop writing to the old store",
                 rollback: ""),
        ])

    /// Freeze, copy everything across in one go, switch, unfreeze; rollback switches back.
    public static let cutAndFill = Strategy(
        id: "cut-and-fill",
        summary: "freeze writes, export everything, import it into the new store, switch, unfreeze",
        rollbackShape: "switch back, restore or discard the new store, unfreeze",
        slots: [
            Slot("freeze-writes", required: true, reversal: .required,
                 forward: "stop accepting writes (read-only mode)",
                 rollback: "accept writes again"),
            Slot("snapshot", required: true, reversal: .optional,
                 forward: "take a snapshot to restore from",
                 rollback: "usually nothing (rollback: none), or remove the snapshot"),
            Slot("cut", required: true, reversal: .optional,
                 forward: "export the data from the old store",
                 rollback: "usually nothing (rollback: none), or remove the export"),
            Slot("fill", required: true, reversal: .required,
                 forward: "import the export into the new store",
                 rollback: "discard the new store, or restore the snapshot"),
            Slot("switch", required: true, reversal: .required,
                 forward: "point the application at the new store",
                 rollback: "point the application back at the old store"),
            Slot("unfreeze", required: true, reversal: .required,
                 forward: "accept writes again, now into the new store",
                 rollback: "freeze writes again while switching back"),
            Slot("retire-old", required: false, reversal: .pointOfNoReturn,
                 forward: "remove the old store",
                 rollback: ""),
        ])

    /// No template: roles are free labels, nothing about them is checked.
    public static let custom = Strategy(
        id: "custom",
        summary: "any step graph; roles are free labels and no slots are checked",
        rollbackShape: "each applied step's rollback, in reverse dependency order",
        slots: [])
}
