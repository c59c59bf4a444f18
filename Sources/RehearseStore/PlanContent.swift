import Foundation
public import RehearseCore

/// What a plan's content hash covers: its text, and the files its `inputs:` name (migrations,
/// scripts). Two runs have the same content hash only when all of these were byte for byte the same.
public struct PlanContent: Sendable, Hashable {
    /// `sha256:` of the text alone when the plan has no inputs (as every earlier `rehearse`
    /// recorded it), else of the text and every input's path and digest.
    public var hash: String
    /// Each input file's digest, by its path relative to the plan's folder.
    public var inputs: [String: String]

    /// Reads and hashes the plan's inputs. A file that cannot be read is an error (a hash that
    /// silently left it out would let the gate pass an edited plan).
    public static func of(_ plan: Plan) throws(UnreadableInput) -> PlanContent {
        let folder = URL(fileURLWithPath: plan.file).deletingLastPathComponent()
        var inputs: [String: String] = [:]
        for path in files(of: plan) {
            guard let digest = ContentHash.ofFile(atPath: folder.appendingPathComponent(path).path) else {
                throw UnreadableInput(path: path, plan: plan.file)
            }
            inputs[path] = digest
        }
        return PlanContent(hash: combinedHash(text: plan.source, inputs: inputs), inputs: inputs)
    }

    /// The content hash of a text and its inputs' digests.
    public static func combinedHash(text: String, inputs: [String: String]) -> String {
        guard !inputs.isEmpty else { return ContentHash.of(text) }
        var material = Array(text.utf8)
        for (path, digest) in inputs.sorted(by: { $0.key < $1.key }) {
            material += [0] + Array(path.utf8) + [0] + Array(digest.utf8)
        }
        return ContentHash.of(material)
    }

    /// The files the plan's inputs name, relative to its folder, sorted: globs expanded, folders
    /// walked, hidden files included (but `.git` folders). Symbolic links are followed (a loop is
    /// walked once); only regular files are kept: a pipe or a device is never read.
    public static func files(of plan: Plan) -> [String] {
        let folder = URL(fileURLWithPath: plan.file).deletingLastPathComponent().standardizedFileURL.path
        var found = Set<String>()
        for input in plan.inputs {
            for match in glob(input.pattern, in: folder) {
                let full = folder + "/" + match
                switch kind(of: full) {
                case .directory: for file in filesUnder(full) { found.insert(match + "/" + file) }
                case .regular: found.insert(match)
                case .other: continue
                }
            }
        }
        return found.sorted()
    }

    private enum Kind { case regular, directory, other }

    /// What a path is, following symbolic links.
    private static func kind(of path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .other }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// glob(3) of `pattern` relative to `folder`, as relative paths; `.` and `..` themselves
    /// (which `.*` matches) are left out.
    static func glob(_ pattern: String, in folder: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        guard Glibc.glob(prefix + pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { index in
            guard let path = result.gl_pathv[index].map({ String(cString: $0) }), path.hasPrefix(prefix) else { return nil }
            let last = path.split(separator: "/").last
            return last == "." || last == ".." ? nil : String(path.dropFirst(prefix.count))
        }
    }

    /// Every regular file under `folder`, relative to it: symbolic links followed, each folder
    /// (by device and inode) walked once, `.git` folders skipped.
    private static func filesUnder(_ folder: String) -> [String] {
        var files: [String] = []
        var visited = Set<[UInt64]>()
        func walk(_ path: String, relative: String) {
            var info = stat()
            guard stat(path, &info) == 0, visited.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted,
                  let names = try? FileManager.default.contentsOfDirectory(atPath: path)
            else { return }
            for name in names.sorted() {
                let child = path + "/" + name
                let childRelative = relative.isEmpty ? name : relative + "/" + name
                switch kind(of: child) {
                case .regular: files.append(childRelative)
                case .directory where name != ".git": walk(child, relative: childRelative)
                default: continue
                }
            }
        }
        walk(folder, relative: "")
        return files
    }

    /// An input file that matched the plan's `inputs:` but cannot be read.
    public struct UnreadableInput: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var plan: String
        public var description: String { "cannot read the input \(path) of plan \(plan)" }
    }
}
