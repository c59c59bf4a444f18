import Glibc

/// A line diff of two texts: which lines were removed and which added, grouped into hunks with
/// context, as `diff -u` prints them.
///
/// The alignment is a longest-common-subsequence one: common prefix and suffix are set aside,
/// lines that occur once on each side anchor the rest (patience diff), and each gap between
/// anchors is aligned by Swift's `CollectionDifference` (Myers). So a moved line shows as removed
/// in one place and added in another, never as one line "changed into" an unrelated one, and a
/// 100,000-line fingerprint with a few changes diffs in milliseconds.
public struct LineDiff: Sendable, Hashable {
    public enum Kind: Character, Sendable, Hashable {
        case context = " "
        case removed = "-"
        case added = "+"
    }

    public struct Line: Sendable, Hashable {
        public var kind: Kind
        public var text: String
    }

    /// A run of changes with the context around it; line numbers from 1.
    public struct Hunk: Sendable, Hashable {
        public var beforeStart: Int
        public var beforeCount: Int
        public var afterStart: Int
        public var afterCount: Int
        public var lines: [Line]

        /// `@@ -12,7 +12,6 @@`
        public var header: String {
            "@@ -\(beforeStart),\(beforeCount) +\(afterStart),\(afterCount) @@"
        }
    }

    /// Every line of both sides, in order, marked as kept, removed or added.
    public var lines: [Line]
    /// Some stretch had too many repeated lines to align within bounds (more than 20,000 lines
    /// with no line occurring once on each side): it is shown as removed, then added, and the
    /// counts are an upper bound.
    public var isApproximate: Bool

    public var removedCount: Int { lines.filter { $0.kind == .removed }.count }
    public var addedCount: Int { lines.filter { $0.kind == .added }.count }
    public var isEmpty: Bool { !lines.contains { $0.kind != .context } }

    public init(before: [String], after: [String]) {
        var approximate = false
        lines = Self.align(before.map(Key.init)[...], after.map(Key.init)[...], approximate: &approximate)
        isApproximate = approximate
    }

    /// A line compared byte for byte: Swift's `String ==` holds canonically equivalent texts
    /// equal (`café` composed and decomposed), and a fingerprint must see that difference.
    struct Key: Hashable {
        var text: String
        init(_ text: String) { self.text = text }
        static func == (a: Key, b: Key) -> Bool {
            var x = a.text, y = b.text
            return x.withUTF8 { bx in
                y.withUTF8 { by in bx.count == by.count && (bx.count == 0 || memcmp(bx.baseAddress!, by.baseAddress!, bx.count) == 0) }
            }
        }
        func hash(into hasher: inout Hasher) {
            var text = text
            text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }

    /// The lines of a text, without a final empty line after its last newline.
    public static func lines(of text: String) -> [String] {
        // On bytes: splitting a large text by characters costs grapheme breaking on every byte.
        var text = text
        return text.withUTF8 { bytes in
            var lines: [String] = []
            var start = 0
            for index in 0..<bytes.count where bytes[index] == 0x0A {
                lines.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
                start = index + 1
            }
            if start < bytes.count { lines.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self)) }
            return lines
        }
    }

    /// The changes grouped with `context` lines around each (hunks closer than twice that merge).
    public func hunks(context: Int = 3) -> [Hunk] {
        var hunks: [Hunk] = []
        var beforeLine = 1, afterLine = 1
        // Numbers of each line on both sides.
        var numbered: [(line: Line, before: Int, after: Int)] = []
        for line in lines {
            numbered.append((line, beforeLine, afterLine))
            if line.kind != .added { beforeLine += 1 }
            if line.kind != .removed { afterLine += 1 }
        }
        let changed = numbered.indices.filter { numbered[$0].line.kind != .context }
        var index = 0
        while index < changed.count {
            var start = max(0, changed[index] - context)
            var end = min(numbered.count - 1, changed[index] + context)
            index += 1
            while index < changed.count, changed[index] - context <= end + 1 {
                end = min(numbered.count - 1, changed[index] + context)
                index += 1
            }
            start = max(0, start)
            let slice = numbered[start...end]
            let beforeCount = slice.filter { $0.line.kind != .added }.count
            let afterCount = slice.filter { $0.line.kind != .removed }.count
            let first = slice.first!
            hunks.append(Hunk(
                beforeStart: beforeCount == 0 ? first.before - 1 : first.before, beforeCount: beforeCount,
                afterStart: afterCount == 0 ? first.after - 1 : first.after, afterCount: afterCount,
                lines: slice.map(\.line)))
        }
        return hunks
    }

    /// The first `limit` lines of the unified diff, and a line saying how many more there are.
    public func unifiedExcerpt(limit: Int, context: Int = 3) -> String {
        let all = unified(context: context).split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2)
        var lines = Array(all.prefix(limit))
        if lines.last == "" { lines.removeLast() }
        let more = all.count - 1 - lines.count
        return lines.joined(separator: "\n") + (more > 0 ? "\n… \(more) more line\(more == 1 ? "" : "s") of diff" : "")
    }

    /// The whole diff in unified format, with `---`/`+++` names.
    public func unified(beforeName: String = "before", afterName: String = "after", context: Int = 3) -> String {
        var text = "--- \(beforeName)\n+++ \(afterName)\n"
        for hunk in hunks(context: context) {
            text += hunk.header + "\n"
            for line in hunk.lines { text += String(line.kind.rawValue) + line.text + "\n" }
        }
        return text
    }

    // MARK: - Alignment

    private static func align(_ a: ArraySlice<Key>, _ b: ArraySlice<Key>, approximate: inout Bool) -> [Line] {
        // Common prefix and suffix: most fingerprints differ in a few places.
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[a.startIndex + prefix] == b[b.startIndex + prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix,
              a[a.endIndex - 1 - suffix] == b[b.endIndex - 1 - suffix] { suffix += 1 }
        let head = a.prefix(prefix).map { Line(kind: .context, text: $0.text) }
        let tail = a.suffix(suffix).map { Line(kind: .context, text: $0.text) }
        let middleA = a.dropFirst(prefix).dropLast(suffix)
        let middleB = b.dropFirst(prefix).dropLast(suffix)
        return head + alignMiddle(middleA, middleB, approximate: &approximate) + tail
    }

    /// Patience: lines unique on both sides, in an increasing order on both, anchor the alignment;
    /// the gaps between anchors are aligned on their own.
    private static func alignMiddle(_ a: ArraySlice<Key>, _ b: ArraySlice<Key>, approximate: inout Bool) -> [Line] {
        if a.isEmpty { return b.map { Line(kind: .added, text: $0.text) } }
        if b.isEmpty { return a.map { Line(kind: .removed, text: $0.text) } }
        let anchors = uniqueCommonAnchors(a, b)
        if anchors.isEmpty { return myers(a, b, approximate: &approximate) }
        var result: [Line] = []
        var nextA = a.startIndex, nextB = b.startIndex
        for (indexA, indexB) in anchors {
            result += align(a[nextA..<indexA], b[nextB..<indexB], approximate: &approximate)
            result.append(Line(kind: .context, text: a[indexA].text))
            nextA = indexA + 1
            nextB = indexB + 1
        }
        result += align(a[nextA...], b[nextB...], approximate: &approximate)
        return result
    }

    /// Pairs of positions of lines that occur exactly once in `a` and once in `b`, longest chain
    /// increasing on both sides (patience sorting).
    private static func uniqueCommonAnchors(_ a: ArraySlice<Key>, _ b: ArraySlice<Key>) -> [(Int, Int)] {
        // Each line's position when it occurs once, -1 when more often.
        func positions(_ lines: ArraySlice<Key>) -> [Key: Int] {
            var result: [Key: Int] = [:]
            result.reserveCapacity(lines.count)
            for index in lines.indices {
                if let seen = result.updateValue(index, forKey: lines[index]), seen != index { result[lines[index]] = -1 }
            }
            return result
        }
        let inA = positions(a), inB = positions(b)
        var pairs: [(Int, Int)] = []
        for index in a.indices {
            guard inA[a[index]] == index, let other = inB[a[index]], other >= 0 else { continue }
            pairs.append((index, other))
        }
        guard !pairs.isEmpty else { return [] }
        // Longest increasing subsequence on the b positions (pairs are in a order).
        var tails: [Int] = []  // index into pairs of the smallest tail of each length
        var previous = [Int](repeating: -1, count: pairs.count)
        for (position, pair) in pairs.enumerated() {
            var low = 0, high = tails.count
            while low < high {
                let mid = (low + high) / 2
                if pairs[tails[mid]].1 < pair.1 { low = mid + 1 } else { high = mid }
            }
            if low > 0 { previous[position] = tails[low - 1] }
            if low == tails.count { tails.append(position) } else { tails[low] = position }
        }
        var chain: [(Int, Int)] = []
        var cursor = tails.last ?? -1
        while cursor >= 0 {
            chain.append(pairs[cursor])
            cursor = previous[cursor]
        }
        return chain.reversed()
    }

    /// A gap with no unique anchors: Myers, through the standard library (its cost grows with the
    /// gap's length times the number of differences), when the gap has at most 20,000 lines;
    /// otherwise everything in it removed then added, and the diff marked approximate.
    private static func myers(_ a: ArraySlice<Key>, _ b: ArraySlice<Key>, approximate: inout Bool) -> [Line] {
        guard a.count + b.count <= 20_000 else {
            approximate = true
            return a.map { Line(kind: .removed, text: $0.text) } + b.map { Line(kind: .added, text: $0.text) }
        }
        let difference = Array(b).difference(from: Array(a))
        var removed = Set<Int>(), inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var result: [Line] = []
        var indexA = 0, indexB = 0
        let arrayA = Array(a), arrayB = Array(b)
        while indexA < arrayA.count || indexB < arrayB.count {
            if indexA < arrayA.count, removed.contains(indexA) {
                result.append(Line(kind: .removed, text: arrayA[indexA].text))
                indexA += 1
            } else if indexB < arrayB.count, inserted.contains(indexB) {
                result.append(Line(kind: .added, text: arrayB[indexB].text))
                indexB += 1
            } else if indexA < arrayA.count, indexB < arrayB.count {
                result.append(Line(kind: .context, text: arrayA[indexA].text))
                indexA += 1
                indexB += 1
            } else {
                // Not reachable with a consistent difference; never loop or trap on one.
                result += arrayA[indexA...].map { Line(kind: .removed, text: $0.text) } + arrayB[indexB...].map { Line(kind: .added, text: $0.text) }
                break
            }
        }
        return result
    }
}
