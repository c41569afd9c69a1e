// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SignedCalls} from "./SignedCalls.sol";

/// @title SCN Registry
/// @notice Lists the Smart Charging Network's nodes (keyed by operator wallet) and the SCPI parties
/// that use them. The OCN registry's read and write functions keep their exact ABI, so OCN tools work
/// unchanged. The on-behalf ("signed") variants use EIP-712 typed data with per-signer nonces and
/// deadlines, where OCN's "Raw" functions could be replayed across time, chains and functions.
contract Registry is SignedCalls {
    // Enum orders are the OCN ones; values travel as uint8 so a bad value reverts with a reason.
    uint8 private constant ROLE_COUNT = 7; // CPO, EMSP, HUB, NAP, NSP, OTHER, SCSP
    uint8 private constant MODULE_COUNT = 7; // cdrs, chargingprofiles, commands, locations, sessions, tariffs, tokens
    uint256 private constant MAX_DOMAIN_LENGTH = 253;
    bytes32 public constant SET_NODE_TYPEHASH =
        keccak256("SetNode(address operator,string domain,uint256 nonce,uint256 deadline)");
    bytes32 public constant DELETE_NODE_TYPEHASH =
        keccak256("DeleteNode(address operator,uint256 nonce,uint256 deadline)");
    bytes32 public constant SET_PARTY_TYPEHASH = keccak256(
        "SetParty(address party,bytes2 countryCode,bytes3 partyId,uint8[] roles,address operator,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant SET_PARTY_MODULES_TYPEHASH = keccak256(
        "SetPartyModules(address party,uint8[] sender,uint8[] receiver,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant DELETE_PARTY_TYPEHASH =
        keccak256("DeleteParty(address party,uint256 nonce,uint256 deadline)");

    /// One storage slot per party: roles and modules are bit sets, so duplicates cannot exist.
    struct Party {
        bytes2 countryCode;
        bytes3 partyId;
        uint8 roles;
        uint8 modulesSender;
        uint8 modulesReceiver;
        address operator;
    }

    struct NodeListing {
        address operator;
        string domain;
    }

    struct PartyListing {
        address party;
        bytes2 countryCode;
        bytes3 partyId;
        uint8[] roles;
        uint8[] modulesSender;
        uint8[] modulesReceiver;
        address operator;
        string domain;
    }

    address public owner;
    address public pendingOwner;

    mapping(address => string) private nodeOf;
    mapping(bytes32 => address) private domainHolder;
    address[] private operators;
    mapping(address => uint256) private operatorSlot; // index + 1 in `operators`

    mapping(address => Party) private partyOf;
    mapping(bytes5 => address) private partyByCredentials; // countryCode ‖ partyId
    address[] private parties;
    mapping(address => uint256) private partySlot; // index + 1 in `parties`
    mapping(address => address[]) private partiesOfOperator;
    mapping(address => uint256) private operatorPartySlot; // index + 1 in partiesOfOperator[operator]

    event NodeCreated(address indexed operator, string domain);
    event NodeUpdated(address indexed operator, string domain, string previousDomain);
    event NodeDeleted(address indexed operator, string domain, bool byOwner);
    event PartyCreated(
        address indexed party, bytes5 indexed credentials, address indexed operator, uint8[] roles
    );
    event PartyUpdated(
        address indexed party, bytes5 indexed credentials, address indexed operator, uint8[] roles
    );
    event PartyModulesUpdated(
        address indexed party, bytes5 indexed credentials, uint8[] sender, uint8[] receiver
    );
    event PartyDeleted(
        address indexed party, bytes5 indexed credentials, address indexed operator, bool byOwner
    );
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    modifier onlyOwner() {
        require(msg.sender == owner, "Ownable: caller is not the owner");
        _;
    }

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    // ---------------------------------------------------------------- ownership (two-step)

    function isOwner() external view returns (bool) {
        return msg.sender == owner;
    }

    function transferOwnership(address newOwner) external onlyOwner {
        require(newOwner != address(0), "Ownable: new owner is the zero address");
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(owner, newOwner);
    }

    function acceptOwnership() external {
        require(msg.sender == pendingOwner, "Ownable: caller is not the pending owner");
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    function adminDeleteOperator(address operator) external onlyOwner {
        _deleteNode(operator, true);
    }

    function adminDeleteParty(bytes2 countryCode, bytes3 partyId) external onlyOwner {
        _deleteParty(partyByCredentials[_credentials(countryCode, partyId)], true);
    }

    // ---------------------------------------------------------------- nodes

    function setNode(string calldata domain) external {
        _setNode(msg.sender, domain);
    }

    function setNodeSigned(address operator, string calldata domain, uint256 deadline, bytes calldata signature)
        external
    {
        bytes32 structHash =
            keccak256(abi.encode(SET_NODE_TYPEHASH, operator, keccak256(bytes(domain)), nonces[operator], deadline));
        _useSignature(operator, structHash, deadline, signature);
        _setNode(operator, domain);
    }

    function deleteNode() external {
        _deleteNode(msg.sender, false);
    }

    function deleteNodeSigned(address operator, uint256 deadline, bytes calldata signature) external {
        bytes32 structHash = keccak256(abi.encode(DELETE_NODE_TYPEHASH, operator, nonces[operator], deadline));
        _useSignature(operator, structHash, deadline, signature);
        _deleteNode(operator, false);
    }

    function getNode(address operator) external view returns (string memory) {
        return nodeOf[operator];
    }

    /// Live operators only: a deleted node leaves the list.
    function getNodeOperators() external view returns (address[] memory) {
        return operators;
    }

    function nodeCount() external view returns (uint256) {
        return operators.length;
    }

    function listNodes(uint256 offset, uint256 limit) external view returns (NodeListing[] memory page) {
        uint256 end = _pageEnd(operators.length, offset, limit);
        page = new NodeListing[](end - offset);
        for (uint256 i = offset; i < end; i++) {
            page[i - offset] = NodeListing(operators[i], nodeOf[operators[i]]);
        }
    }

    // ---------------------------------------------------------------- parties

    function setParty(bytes2 countryCode, bytes3 partyId, uint8[] calldata roles, address operator) external {
        _setParty(msg.sender, countryCode, partyId, roles, operator);
    }

    function setPartySigned(
        address party,
        bytes2 countryCode,
        bytes3 partyId,
        uint8[] calldata roles,
        address operator,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash =
            _setPartyHash(party, countryCode, partyId, keccak256(abi.encodePacked(roles)), operator, deadline);
        _useSignature(party, structHash, deadline, signature);
        _setParty(party, countryCode, partyId, roles, operator);
    }

    // Its own frame: encoding eight fields next to setPartySigned's arguments overflows the stack.
    function _setPartyHash(
        address party,
        bytes2 countryCode,
        bytes3 partyId,
        bytes32 rolesHash,
        address operator,
        uint256 deadline
    ) private view returns (bytes32) {
        return keccak256(
            abi.encode(SET_PARTY_TYPEHASH, party, countryCode, partyId, rolesHash, operator, nonces[party], deadline)
        );
    }

    function setPartyModules(uint8[] calldata sender, uint8[] calldata receiver) external {
        _setPartyModules(msg.sender, sender, receiver);
    }

    function setPartyModulesSigned(
        address party,
        uint8[] calldata sender,
        uint8[] calldata receiver,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                SET_PARTY_MODULES_TYPEHASH,
                party,
                keccak256(abi.encodePacked(sender)),
                keccak256(abi.encodePacked(receiver)),
                nonces[party],
                deadline
            )
        );
        _useSignature(party, structHash, deadline, signature);
        _setPartyModules(party, sender, receiver);
    }

    function deleteParty() external {
        _deleteParty(msg.sender, false);
    }

    function deletePartySigned(address party, uint256 deadline, bytes calldata signature) external {
        bytes32 structHash = keccak256(abi.encode(DELETE_PARTY_TYPEHASH, party, nonces[party], deadline));
        _useSignature(party, structHash, deadline, signature);
        _deleteParty(party, false);
    }

    function getOperatorByAddress(address party) external view returns (address operator, string memory domain) {
        operator = partyOf[party].operator;
        domain = nodeOf[operator];
    }

    function getOperatorByOcpi(bytes2 countryCode, bytes3 partyId)
        external
        view
        returns (address operator, string memory domain)
    {
        operator = partyOf[partyByCredentials[_credentials(countryCode, partyId)]].operator;
        domain = nodeOf[operator];
    }

    /// OCN layout: modules come before roles here, and after them in getPartyDetailsByOcpi.
    function getPartyDetailsByAddress(address partyAddress)
        external
        view
        returns (
            bytes2 countryCode,
            bytes3 partyId,
            uint8[] memory modulesSender,
            uint8[] memory modulesReceiver,
            uint8[] memory roles,
            address operatorAddress,
            string memory operatorDomain
        )
    {
        Party storage p = partyOf[partyAddress];
        return (
            p.countryCode,
            p.partyId,
            _list(p.modulesSender),
            _list(p.modulesReceiver),
            _list(p.roles),
            p.operator,
            nodeOf[p.operator]
        );
    }

    function getPartyDetailsByOcpi(bytes2 countryCode, bytes3 partyId)
        external
        view
        returns (
            address partyAddress,
            uint8[] memory roles,
            uint8[] memory modulesSender,
            uint8[] memory modulesReceiver,
            address operatorAddress,
            string memory operatorDomain
        )
    {
        partyAddress = partyByCredentials[_credentials(countryCode, partyId)];
        Party storage p = partyOf[partyAddress];
        return (
            partyAddress,
            _list(p.roles),
            _list(p.modulesSender),
            _list(p.modulesReceiver),
            p.operator,
            nodeOf[p.operator]
        );
    }

    /// Live parties only: a deleted party leaves the list.
    function getParties() external view returns (address[] memory) {
        return parties;
    }

    function partyCount() external view returns (uint256) {
        return parties.length;
    }

    function partyCountOf(address operator) external view returns (uint256) {
        return partiesOfOperator[operator].length;
    }

    function listParties(uint256 offset, uint256 limit) external view returns (PartyListing[] memory) {
        return _listings(parties, offset, limit);
    }

    function listPartiesOf(address operator, uint256 offset, uint256 limit)
        external
        view
        returns (PartyListing[] memory)
    {
        return _listings(partiesOfOperator[operator], offset, limit);
    }

    // ---------------------------------------------------------------- internals

    function _domainName() internal pure override returns (string memory) {
        return "SCN Registry";
    }

    function _setNode(address operator, string calldata domain) private {
        bytes calldata d = bytes(domain);
        require(d.length != 0, "Cannot set empty domain name. Use deleteNode method instead.");
        require(d.length <= MAX_DOMAIN_LENGTH, "Domain name too long.");
        require(_isHttpUrl(d), "Domain must be an http(s) URL without a trailing slash.");
        bytes32 key = keccak256(d);
        address holder = domainHolder[key];
        require(holder == address(0) || holder == operator, "Domain name already registered.");
        string memory previous = nodeOf[operator];
        domainHolder[key] = operator;
        nodeOf[operator] = domain;
        if (bytes(previous).length == 0) {
            _add(operators, operatorSlot, operator);
            emit NodeCreated(operator, domain);
        } else {
            bytes32 previousKey = keccak256(bytes(previous));
            if (previousKey != key) delete domainHolder[previousKey]; // frees the old domain
            emit NodeUpdated(operator, domain, previous);
        }
    }

    function _deleteNode(address operator, bool byOwner) private {
        string memory domain = nodeOf[operator];
        require(bytes(domain).length != 0, "Cannot delete node that does not exist.");
        delete domainHolder[keccak256(bytes(domain))];
        delete nodeOf[operator];
        _remove(operators, operatorSlot, operator);
        emit NodeDeleted(operator, domain, byOwner);
    }

    function _setParty(
        address party,
        bytes2 countryCode,
        bytes3 partyId,
        uint8[] calldata roles,
        address operator
    ) private {
        require(countryCode != 0, "Cannot set empty country_code. Use deleteParty method instead.");
        require(partyId != 0, "Cannot set empty party_id. Use deleteParty method instead.");
        require(_isCountryCode(countryCode), "country_code must be two upper-case letters.");
        require(_isPartyId(partyId), "party_id must be three upper-case letters or digits.");
        require(roles.length != 0, "No roles provided.");
        uint8 roleSet = _set(roles, ROLE_COUNT, "Unknown role: roles are 0 (CPO) to 6 (SCSP).");
        require(operator != address(0), "Cannot set empty operator. Use deleteParty method instead.");
        require(bytes(nodeOf[operator]).length != 0, "Provided operator not registered.");
        bytes5 credentials = _credentials(countryCode, partyId);
        address holder = partyByCredentials[credentials];
        require(
            holder == address(0) || holder == party,
            "Party with country_code/party_id already registered under different address."
        );

        Party storage p = partyOf[party];
        bool created = p.operator == address(0);
        if (created) {
            _add(parties, partySlot, party);
            _add(partiesOfOperator[operator], operatorPartySlot, party);
        } else {
            bytes5 previous = _credentials(p.countryCode, p.partyId);
            if (previous != credentials) delete partyByCredentials[previous]; // frees the old pair
            if (p.operator != operator) {
                _remove(partiesOfOperator[p.operator], operatorPartySlot, party);
                _add(partiesOfOperator[operator], operatorPartySlot, party);
            }
        }
        partyByCredentials[credentials] = party;
        // Modules are left as they were: only setPartyModules changes them.
        p.countryCode = countryCode;
        p.partyId = partyId;
        p.roles = roleSet;
        p.operator = operator;
        if (created) emit PartyCreated(party, credentials, operator, _list(roleSet));
        else emit PartyUpdated(party, credentials, operator, _list(roleSet));
    }

    function _setPartyModules(address party, uint8[] calldata sender, uint8[] calldata receiver) private {
        Party storage p = partyOf[party];
        require(p.operator != address(0), "Party not registered. Use setParty method first.");
        string memory reason = "Unknown module: modules are 0 (cdrs) to 6 (tokens).";
        p.modulesSender = _set(sender, MODULE_COUNT, reason);
        p.modulesReceiver = _set(receiver, MODULE_COUNT, reason);
        emit PartyModulesUpdated(
            party, _credentials(p.countryCode, p.partyId), _list(p.modulesSender), _list(p.modulesReceiver)
        );
    }

    function _deleteParty(address party, bool byOwner) private {
        Party memory p = partyOf[party];
        require(p.operator != address(0), "Cannot delete party that does not exist. No operator found for given party.");
        bytes5 credentials = _credentials(p.countryCode, p.partyId);
        delete partyByCredentials[credentials];
        delete partyOf[party];
        _remove(parties, partySlot, party);
        _remove(partiesOfOperator[p.operator], operatorPartySlot, party);
        emit PartyDeleted(party, credentials, p.operator, byOwner);
    }

    function _listings(address[] storage list, uint256 offset, uint256 limit)
        private
        view
        returns (PartyListing[] memory page)
    {
        uint256 end = _pageEnd(list.length, offset, limit);
        page = new PartyListing[](end - offset);
        for (uint256 i = offset; i < end; i++) {
            Party storage p = partyOf[list[i]];
            page[i - offset] = PartyListing(
                list[i],
                p.countryCode,
                p.partyId,
                _list(p.roles),
                _list(p.modulesSender),
                _list(p.modulesReceiver),
                p.operator,
                nodeOf[p.operator]
            );
        }
    }

    function _add(address[] storage list, mapping(address => uint256) storage slot, address item) private {
        list.push(item);
        slot[item] = list.length;
    }

    /// Swap-and-pop, so listings hold live entries only.
    function _remove(address[] storage list, mapping(address => uint256) storage slot, address item) private {
        uint256 index = slot[item] - 1;
        address last = list[list.length - 1];
        list[index] = last;
        slot[last] = index + 1;
        list.pop();
        delete slot[item];
    }

    function _set(uint8[] calldata values, uint8 count, string memory reason) private pure returns (uint8 bits) {
        for (uint256 i = 0; i < values.length; i++) {
            require(values[i] < count, reason);
            bits |= uint8(1 << values[i]);
        }
    }

    function _list(uint8 bits) private pure returns (uint8[] memory values) {
        uint256 n = 0;
        for (uint8 i = 0; i < 8; i++) if (bits & (1 << i) != 0) n++;
        values = new uint8[](n);
        n = 0;
        for (uint8 i = 0; i < 8; i++) if (bits & (1 << i) != 0) values[n++] = i;
    }

    function _credentials(bytes2 countryCode, bytes3 partyId) private pure returns (bytes5) {
        return bytes5(countryCode) | (bytes5(partyId) >> 16);
    }

    function _pageEnd(uint256 length, uint256 offset, uint256 limit) private pure returns (uint256) {
        if (offset >= length) return offset;
        return length - offset < limit ? length : offset + limit;
    }

    function _isCountryCode(bytes2 cc) private pure returns (bool) {
        for (uint256 i = 0; i < 2; i++) if (!_isUpper(cc[i])) return false;
        return true;
    }

    function _isPartyId(bytes3 pid) private pure returns (bool) {
        for (uint256 i = 0; i < 3; i++) if (!_isUpper(pid[i]) && !(pid[i] >= "0" && pid[i] <= "9")) return false;
        return true;
    }

    function _isUpper(bytes1 c) private pure returns (bool) {
        return c >= "A" && c <= "Z";
    }

    function _isHttpUrl(bytes calldata d) private pure returns (bool) {
        if (d[d.length - 1] == "/") return false;
        return _hasPrefix(d, "http://") || _hasPrefix(d, "https://");
    }

    function _hasPrefix(bytes calldata d, bytes memory prefix) private pure returns (bool) {
        if (d.length <= prefix.length) return false;
        for (uint256 i = 0; i < prefix.length; i++) if (d[i] != prefix[i]) return false;
        return true;
    }
}
