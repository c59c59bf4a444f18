import RehearseCore
import Testing

/// SHA-256 over the system's libcrypto gives the standard digests (FIPS 180-2 test vectors), in
/// one piece or many: content hashes recorded by earlier versions (on swift-crypto) still match.
@Suite struct SHA256Tests {
    @Test func theStandardVectors() {
        #expect(SHA256.hex(SHA256.hash(data: [UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(SHA256.hash(data: Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(SHA256.hash(data: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func inPiecesAsAtOnce() {
        var hasher = SHA256()
        let chunk = [UInt8](repeating: 0x61, count: 1000)
        for _ in 0..<1000 { hasher.update(data: chunk) }
        #expect(SHA256.hex(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // A slice and a non-contiguous sequence hash as their bytes.
        var pieces = SHA256()
        pieces.update(data: Array("xabcx".utf8)[1..<4])
        #expect(SHA256.hex(pieces.finalize()) == SHA256.hex(SHA256.hash(data: Array("abc".utf8))))
        var lazy = SHA256()
        lazy.update(data: "abc".utf8.lazy.map { $0 })
        #expect(SHA256.hex(lazy.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
