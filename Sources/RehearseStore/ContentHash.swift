import Crypto

/// The identity of a plan's content: `gate` compares it to say whether this exact plan was rehearsed.
public enum ContentHash {
    /// `sha256:` and the hex digest of the text's UTF-8 bytes.
    public static func of(_ text: String) -> String {
        of(Array(text.utf8))
    }

    /// `sha256:` and the hex digest of the bytes.
    public static func of(_ bytes: [UInt8]) -> String {
        let digest = SHA256.hash(data: bytes)
        return "sha256:" + digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
