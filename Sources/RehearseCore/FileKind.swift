import Glibc

/// What a path names, looked at without opening it: opening a FIFO for reading waits for a
/// writer forever, and a device is no file to parse or to keep a database in.
public enum FileKind: Sendable, Equatable {
    case missing
    case regular
    case folder
    /// A FIFO, a socket, a character or block device: described in words.
    case special(String)

    /// The kind of `path`, following symbolic links (a link to a plan is a plan).
    public static func of(_ path: String) -> FileKind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .folder
        case S_IFIFO: return .special("a FIFO (named pipe)")
        case S_IFSOCK: return .special("a socket")
        case S_IFCHR: return .special("a character device")
        case S_IFBLK: return .special("a block device")
        default: return .special("not a regular file")
        }
    }
}
