// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SignedCalls} from "./SignedCalls.sol";

/// The Registry views this contract reads; party listings stay in the Registry alone.
interface IRegistry {
    function getPartyDetailsByAddress(address partyAddress)
        external
        view
        returns (bytes2, bytes3, uint8[] memory, uint8[] memory, uint8[] memory, address, string memory);

    function getPartyDetailsByOcpi(bytes2 countryCode, bytes3 partyId)
        external
        view
        returns (address, uint8[] memory, uint8[] memory, uint8[] memory, address, string memory);
}

/// @title SCN Permissions
/// @notice Services and the agreements of their users. A service is an SCPI party listed in the
/// Registry that offers to receive copies of its users' requests, within a set of permissions; a
/// user is a listed party that agrees to a service, and a node forwards the copies. Unlike OCN's
/// Permissions contract, a revoked agreement really leaves the user's list, agreements never outlive
/// the service they were given to, and the signed variants use EIP-712 with nonces and deadlines.
contract Permissions is SignedCalls {
    /// Permission ids 0 (FORWARD_ALL) to 16 (FORWARD_MODULE_CHARGINGPROFILES_RECEIVER), as bits.
    uint32 private constant ALL_PERMISSIONS = uint32((1 << 17) - 1);
    uint256 private constant MAX_NAME_LENGTH = 64;
    uint256 private constant MAX_URL_LENGTH = 253;
    bytes32 public constant SET_SERVICE_TYPEHASH = keccak256(
        "SetService(address provider,string name,string url,uint32 permissions,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant DELETE_SERVICE_TYPEHASH =
        keccak256("DeleteService(address provider,uint256 nonce,uint256 deadline)");
    bytes32 public constant CREATE_AGREEMENT_TYPEHASH =
        keccak256("CreateAgreement(address user,address provider,uint256 nonce,uint256 deadline)");
    bytes32 public constant REVOKE_AGREEMENT_TYPEHASH =
        keccak256("RevokeAgreement(address user,address provider,uint256 nonce,uint256 deadline)");

    /// `epoch` counts the service's deletions and widenings: an agreement holds only for the epoch
    /// it was given in, so it neither outlives a deleted service nor covers permissions added later.
    struct Service {
        uint32 permissions; // 0: no service
        uint64 epoch;
        string name;
        string url;
    }

    struct Agreement {
        uint128 slot; // index + 1 in providersOf[user]
        uint128 epoch;
    }

    struct ServiceListing {
        address provider;
        bytes2 countryCode;
        bytes3 partyId;
        string name;
        string url;
        uint32 permissions;
    }

    IRegistry public immutable registry;

    mapping(address => Service) private services;
    address[] private providers;
    mapping(address => uint256) private providerSlot; // index + 1 in `providers`
    mapping(address => address[]) private providersOf;
    mapping(address => mapping(address => Agreement)) private agreements;

    event ServiceSet(address indexed provider, string name, string url, uint32 permissions);
    event ServiceDeleted(address indexed provider);
    event AgreementCreated(address indexed user, address indexed provider);
    event AgreementRevoked(address indexed user, address indexed provider);

    constructor(address registryAddress) {
        require(registryAddress.code.length != 0, "Registry is not a contract.");
        registry = IRegistry(registryAddress);
    }

    // ---------------------------------------------------------------- services

    function setService(string calldata name, string calldata url, uint32 permissions) external {
        _setService(msg.sender, name, url, permissions);
    }

    function setServiceSigned(
        address provider,
        string calldata name,
        string calldata url,
        uint32 permissions,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash =
            _setServiceHash(provider, keccak256(bytes(name)), keccak256(bytes(url)), permissions, deadline);
        _useSignature(provider, structHash, deadline, signature);
        _setService(provider, name, url, permissions);
    }

    // Its own frame: encoding seven fields next to setServiceSigned's arguments overflows the stack.
    function _setServiceHash(address provider, bytes32 nameHash, bytes32 urlHash, uint32 permissions, uint256 deadline)
        private
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encode(SET_SERVICE_TYPEHASH, provider, nameHash, urlHash, permissions, nonces[provider], deadline)
        );
    }

    function deleteService() external {
        _deleteService(msg.sender);
    }

    function deleteServiceSigned(address provider, uint256 deadline, bytes calldata signature) external {
        bytes32 structHash = keccak256(abi.encode(DELETE_SERVICE_TYPEHASH, provider, nonces[provider], deadline));
        _useSignature(provider, structHash, deadline, signature);
        _deleteService(provider);
    }

    /// cc and pid are the provider's current Registry listing (zero when it has none).
    function getService(address provider)
        external
        view
        returns (
            bytes2 countryCode,
            bytes3 partyId,
            string memory name,
            string memory url,
            uint32 permissions,
            bool exists
        )
    {
        Service storage s = services[provider];
        (countryCode, partyId,) = _party(provider);
        return (countryCode, partyId, s.name, s.url, s.permissions, s.permissions != 0);
    }

    function serviceCount() external view returns (uint256) {
        return providers.length;
    }

    function listServices(uint256 offset, uint256 limit) external view returns (ServiceListing[] memory page) {
        uint256 end = _pageEnd(providers.length, offset, limit);
        page = new ServiceListing[](end - offset);
        for (uint256 i = offset; i < end; i++) {
            address provider = providers[i];
            (bytes2 cc, bytes3 pid,) = _party(provider);
            page[i - offset] = _listing(provider, cc, pid);
        }
    }

    // ---------------------------------------------------------------- agreements

    function createAgreement(address provider) external {
        _createAgreement(msg.sender, provider);
    }

    function createAgreementSigned(address user, address provider, uint256 deadline, bytes calldata signature)
        external
    {
        _useAgreementSignature(CREATE_AGREEMENT_TYPEHASH, user, provider, deadline, signature);
        _createAgreement(user, provider);
    }

    function revokeAgreement(address provider) external {
        _revokeAgreement(msg.sender, provider);
    }

    function revokeAgreementSigned(address user, address provider, uint256 deadline, bytes calldata signature)
        external
    {
        _useAgreementSignature(REVOKE_AGREEMENT_TYPEHASH, user, provider, deadline, signature);
        _revokeAgreement(user, provider);
    }

    /// CreateAgreement and RevokeAgreement sign the same fields.
    function _useAgreementSignature(
        bytes32 typehash,
        address user,
        address provider,
        uint256 deadline,
        bytes calldata signature
    ) private {
        bytes32 structHash = keccak256(abi.encode(typehash, user, provider, nonces[user], deadline));
        _useSignature(user, structHash, deadline, signature);
    }

    /// Whether `user`'s agreement holds: given to the provider's current service, whose provider
    /// is still listed in the Registry.
    function hasAgreement(address user, address provider) public view returns (bool) {
        if (!_holds(user, provider)) return false;
        (,, bool listed) = _party(provider);
        return listed;
    }

    function hasAgreementByOcpi(bytes2 countryCode, bytes3 partyId, address provider) external view returns (bool) {
        (address user,,,,,) = registry.getPartyDetailsByOcpi(countryCode, partyId);
        return user != address(0) && hasAgreement(user, provider);
    }

    /// The providers `user`'s agreements hold for, in no particular order.
    function agreementsOf(address user) external view returns (address[] memory held) {
        address[] storage list = providersOf[user];
        address[] memory found = new address[](list.length);
        uint256 n = 0;
        for (uint256 i = 0; i < list.length; i++) {
            if (hasAgreement(user, list[i])) found[n++] = list[i];
        }
        held = new address[](n);
        for (uint256 i = 0; i < n; i++) held[i] = found[i];
    }

    /// What a node needs to copy a sender's requests: the services the party agreed to, with the
    /// providers' current credentials and permissions. One call per sender.
    function servicesOfParty(bytes2 countryCode, bytes3 partyId) external view returns (ServiceListing[] memory held) {
        (address user,,,,,) = registry.getPartyDetailsByOcpi(countryCode, partyId);
        if (user == address(0)) return held;
        address[] storage list = providersOf[user];
        ServiceListing[] memory found = new ServiceListing[](list.length);
        uint256 n = 0;
        for (uint256 i = 0; i < list.length; i++) {
            address provider = list[i];
            if (!_holds(user, provider)) continue;
            (bytes2 cc, bytes3 pid, bool listed) = _party(provider);
            if (listed) found[n++] = _listing(provider, cc, pid);
        }
        held = new ServiceListing[](n);
        for (uint256 i = 0; i < n; i++) held[i] = found[i];
    }

    // ---------------------------------------------------------------- internals

    function _domainName() internal pure override returns (string memory) {
        return "SCN Permissions";
    }

    function _setService(address provider, string calldata name, string calldata url, uint32 permissions)
        private
    {
        require(permissions != 0, "No permissions given.");
        require(
            permissions <= ALL_PERMISSIONS,
            "Unknown permission: ids are 0 (FORWARD_ALL) to 16 (FORWARD_MODULE_CHARGINGPROFILES_RECEIVER)."
        );
        require(
            bytes(name).length != 0 && bytes(name).length <= MAX_NAME_LENGTH, "Service name must be 1 to 64 bytes."
        );
        require(
            bytes(url).length <= MAX_URL_LENGTH && _isHttpUrl(bytes(url)),
            "Service url must be an http(s) URL of at most 253 bytes."
        );
        (,, bool listed) = _party(provider);
        require(listed, "Service provider has no party listing in Registry.");
        Service storage s = services[provider];
        if (s.permissions == 0) {
            providers.push(provider);
            providerSlot[provider] = providers.length;
        } else if (permissions & ~s.permissions != 0) {
            s.epoch++; // wider permissions need the users' consent again
        }
        s.permissions = permissions;
        s.name = name;
        s.url = url;
        emit ServiceSet(provider, name, url, permissions);
    }

    function _deleteService(address provider) private {
        Service storage s = services[provider];
        require(s.permissions != 0, "Cannot delete service that does not exist.");
        // The users' agreements stay in storage, lapsed: views skip them, the users may revoke them.
        s.epoch++;
        s.permissions = 0;
        delete s.name;
        delete s.url;
        uint256 index = providerSlot[provider] - 1;
        address last = providers[providers.length - 1];
        providers[index] = last;
        providerSlot[last] = index + 1;
        providers.pop();
        delete providerSlot[provider];
        emit ServiceDeleted(provider);
    }

    function _createAgreement(address user, address provider) private {
        (,, bool userListed) = _party(user);
        require(userListed, "Service user has no party listing in Registry.");
        require(user != provider, "Cannot agree to one's own service.");
        Service storage s = services[provider];
        require(s.permissions != 0, "Provider has no registered Service.");
        (,, bool providerListed) = _party(provider);
        require(providerListed, "Provider has no party listing in Registry.");
        Agreement storage a = agreements[user][provider];
        if (a.slot == 0) {
            providersOf[user].push(provider);
            a.slot = uint128(providersOf[user].length);
        } else {
            // A lapsed agreement is renewed in its slot, so the user's list never repeats a provider.
            require(a.epoch != s.epoch, "Agreement already made between user and provider.");
        }
        a.epoch = s.epoch;
        emit AgreementCreated(user, provider);
    }

    /// Also removes a lapsed agreement, so a user can always clear its list.
    function _revokeAgreement(address user, address provider) private {
        Agreement storage a = agreements[user][provider];
        require(a.slot != 0, "No agreement made between user and provider.");
        address[] storage list = providersOf[user];
        uint256 index = a.slot - 1;
        address last = list[list.length - 1];
        list[index] = last;
        agreements[user][last].slot = uint128(index + 1);
        list.pop();
        delete agreements[user][provider];
        emit AgreementRevoked(user, provider);
    }

    function _holds(address user, address provider) private view returns (bool) {
        Agreement storage a = agreements[user][provider];
        Service storage s = services[provider];
        return a.slot != 0 && s.permissions != 0 && a.epoch == s.epoch;
    }

    function _party(address party) private view returns (bytes2 cc, bytes3 pid, bool listed) {
        address operator;
        (cc, pid,,,, operator,) = registry.getPartyDetailsByAddress(party);
        listed = operator != address(0);
    }

    function _listing(address provider, bytes2 cc, bytes3 pid) private view returns (ServiceListing memory) {
        Service storage s = services[provider];
        return ServiceListing(provider, cc, pid, s.name, s.url, s.permissions);
    }

    function _pageEnd(uint256 length, uint256 offset, uint256 limit) private pure returns (uint256) {
        if (offset >= length) return offset;
        return length - offset < limit ? length : offset + limit;
    }

    function _isHttpUrl(bytes calldata u) private pure returns (bool) {
        return _hasPrefix(u, "http://") || _hasPrefix(u, "https://");
    }

    function _hasPrefix(bytes calldata d, bytes memory prefix) private pure returns (bool) {
        if (d.length <= prefix.length) return false;
        for (uint256 i = 0; i < prefix.length; i++) if (d[i] != prefix[i]) return false;
        return true;
    }
}
