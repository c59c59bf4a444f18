import COpenSSL

/// SHA-256 over the system's libcrypto (OpenSSL's EVP interface), in pieces or at once: the plan
/// content hash and the fingerprints' digests. (swift-crypto builds a whole BoringSSL from source
/// for this, which was most of a cold build.) One hasher gives one digest: ``finalize()`` ends it.
public struct SHA256 {
    /// The EVP context, freed with the last copy of the hasher.
    private final class Context {
        let pointer: OpaquePointer

        init() {
            // Only allocation can fail here, and nothing goes on without memory.
            guard let pointer = EVP_MD_CTX_new(), EVP_DigestInit_ex(pointer, EVP_sha256(), nil) == 1 else {
                fatalError("libcrypto cannot make a SHA-256 context")
            }
            self.pointer = pointer
        }

        deinit { EVP_MD_CTX_free(pointer) }
    }

    private let context = Context()

    public init() {}

    public mutating func update<Bytes: Sequence>(data bytes: Bytes) where Bytes.Element == UInt8 {
        let pointer = context.pointer
        let hashed: Bool? = bytes.withContiguousStorageIfAvailable { buffer in
            EVP_DigestUpdate(pointer, buffer.baseAddress, buffer.count) == 1
        }
        if hashed == nil {
            let copy = Array(bytes)
            copy.withUnsafeBufferPointer { _ = EVP_DigestUpdate(pointer, $0.baseAddress, $0.count) }
        }
    }

    /// The 32 bytes of the digest of everything given so far.
    public func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = digest.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context.pointer, $0.baseAddress, &length) }
        return digest
    }

    public static func hash<Bytes: Sequence>(data bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(data: bytes)
        return hasher.finalize()
    }

    /// Lower-case hex of a digest.
    public static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(digest.count * 2)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
