"""Registry failures, each with a message a user can act on.

* RegistryError
  + RegistryUnavailable   the RPC endpoint does not answer
  + NotARegistry          no SCN Registry contract at that address
  + RegistryRevert        the contract refused the call; `reason` is its revert string
  + TransactionFailed     mined with status 0
  + InsufficientFunds     the sending account cannot pay the gas
"""


class RegistryError(Exception):
    pass


class RegistryUnavailable(RegistryError):
    pass


class NotARegistry(RegistryError):
    pass


class RegistryRevert(RegistryError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransactionFailed(RegistryError):
    pass


class InsufficientFunds(RegistryError):
    pass
