"""The registry stores modules as indices: the order the chain uses is the node's one module tuple."""

from scn_node.registry.listings import REGISTRY_MODULES, module_indices, modules_of
from scn_node.scpi.party import ModuleId


def test_module_indices_follow_the_one_module_tuple() -> None:
    assert [str(m) for m in REGISTRY_MODULES] == [
        "cdrs",
        "chargingprofiles",
        "commands",
        "locations",
        "sessions",
        "tariffs",
        "tokens",
    ]
    assert module_indices([ModuleId.TOKENS, ModuleId.CDRS]) == [0, 6]
    assert modules_of([3, 0]) == (ModuleId.LOCATIONS, ModuleId.CDRS)
