import Foundation

/// Reading a plan file from disk, with a clear diagnostic for every way that can fail.
public enum PlanFile {
    /// Plans larger than this are refused before parsing: no real go-live plan comes near it.
    public static let maximumSize = 16 * 1024 * 1024

    /// Reads, parses and validates the plan at `path`. `path` is shown as given in diagnostics.
    public static func load(_ path: String) -> PlanParseResult {
        switch read(path) {
        case .failure(let diagnostic):
            return PlanParseResult(plan: nil, diagnostics: [diagnostic])
        case .success(let text):
            return PlanParser().parse(text, file: path, defaultName: defaultName(for: path))
        }
    }

    /// The plan's name when it has no `name:`: the file name without its extension.
    public static func defaultName(for path: String) -> String {
        URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }

    /// The file's text, or a diagnostic saying why it cannot be a plan.
    public static func read(_ path: String) -> Result<String, Diagnostic> {
        let whole = SourceLocation.wholeFile(path)
        switch FileKind.of(path) {
        case .missing:
            return .failure(.error(at: whole, "no such plan file", fix: "check the path; plans live in the Rehearsals/ folder"))
        case .folder:
            return .failure(.error(at: whole, "is a folder, not a plan file", fix: "name a .yml file inside it"))
        case .special(let kind):
            return .failure(.error(at: whole, "is \(kind), not a plan file: nothing was read from it", fix: "name a regular .yml file"))
        case .regular:
            break
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if size > maximumSize {
            return .failure(.error(
                at: whole, "the file is \(size / 1024 / 1024) MiB; plans are limited to \(maximumSize / 1024 / 1024) MiB",
                fix: "is this really a plan file? Split a giant plan into several plans"))
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return .failure(.error(at: whole, "cannot be read (permission denied?)", fix: "check the file's permissions"))
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumSize + 1) ?? Data()
        } catch {
            return .failure(.error(at: whole, "cannot be read: \(error.localizedDescription)"))
        }
        if data.count > maximumSize {
            return .failure(.error(at: whole, "the file is larger than \(maximumSize / 1024 / 1024) MiB",
                                   fix: "is this really a plan file?"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(.error(at: whole, "is not UTF-8 text", fix: "plans are YAML text files saved as UTF-8"))
        }
        if text.contains("\u{0}") {
            return .failure(.error(at: whole, "is a binary file, not YAML text", fix: "name a .yml plan file"))
        }
        return .success(text)
    }
}
