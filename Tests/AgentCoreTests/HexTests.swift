import AgentCore
import Testing

/// Key hashes must stay what stores already hold: lowercase hex of SHA-256.
@Suite struct HexTests {
    @Test func hexIsLowercaseTwoDigitsPerByte() {
        #expect(Hex.encode([0x00, 0x0F, 0xA5, 0xFF]) == "000fa5ff")
        #expect(Hex.encode([UInt8]()) == "")
    }

    @Test func keyHashIsTheSHA256OfTheKey() {
        #expect(APIKeys.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
