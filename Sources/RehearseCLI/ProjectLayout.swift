import Foundation

/// Where a project's generated files go: `.rehearse/` at the root that holds `Rehearsals/`.
enum ProjectLayout {
    static let stateFolderName = ".rehearse"

    /// The project root for a plan file: the folder holding the nearest `Rehearsals/` above the
    /// plan, or the plan's own folder when it is not inside one.
    static func root(forPlan file: String) -> URL {
        let folder = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent()
        var cursor = folder
        while cursor.path != "/" {
            if cursor.lastPathComponent == PlanDiscovery.folderName { return cursor.deletingLastPathComponent() }
            cursor = cursor.deletingLastPathComponent()
        }
        return folder
    }

    /// `.rehearse/` for a plan's project.
    static func stateFolder(forPlan file: String) -> URL {
        root(forPlan: file).appendingPathComponent(stateFolderName, isDirectory: true)
    }
}
