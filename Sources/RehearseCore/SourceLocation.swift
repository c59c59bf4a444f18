/// A place in a plan file: the path as the user named it, and a 1-based line and column.
///
/// Columns count Unicode scalars, as the YAML parser does.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// A location that stands for the file as a whole (it is missing, a folder, unreadable...).
    public static func wholeFile(_ file: String) -> SourceLocation {
        SourceLocation(file: file, line: 0, column: 0)
    }

    /// `file:line:col`, the form compilers and editors understand; just `file` for the whole file.
    public var description: String { line > 0 ? "\(file):\(line):\(column)" : file }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}
