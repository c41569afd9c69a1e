// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title EIP-712 signed calls
/// @notice What the Registry and Permissions share to run a call on behalf of its signer: the
/// EIP-712 domain (the contract's name, version "1", this chain, this address), per-signer nonces
/// and deadlines, so a signature can serve once, on one contract, on one chain, for a limited time.
abstract contract SignedCalls {
    // secp256k1 order / 2: a larger s is the malleable twin of a valid signature.
    uint256 private constant MAX_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant VERSION_HASH = keccak256("1");

    /// Next nonce each signer must use in a signed call.
    mapping(address => uint256) public nonces;

    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        // Computed per call so that a signature never survives a chain fork.
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(_domainName())), VERSION_HASH, block.chainid, address(this))
        );
    }

    /// EIP-5267: lets wallets and the CLI discover the signing domain.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", _domainName(), "1", block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// The EIP-712 domain name, which the signers' wallets show.
    function _domainName() internal pure virtual returns (string memory);

    /// Spends `subject`'s current nonce if it signed `structHash` (which holds that nonce) in time.
    function _useSignature(address subject, bytes32 structHash, uint256 deadline, bytes calldata signature)
        internal
    {
        require(block.timestamp <= deadline, "Signature expired.");
        bytes32 digest = keccak256(abi.encodePacked(hex"1901", DOMAIN_SEPARATOR(), structHash));
        address signer = _recover(digest, signature);
        require(signer != address(0) && signer == subject, "Invalid signature.");
        nonces[subject]++;
    }

    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address) {
        if (signature.length != 65) return address(0);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        if ((v != 27 && v != 28) || uint256(s) > MAX_S) return address(0);
        return ecrecover(digest, v, r, s);
    }
}
