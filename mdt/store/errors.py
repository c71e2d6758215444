"""Cache and key failures, sorted into "environment" (a person can act on it) and "bug".

Every error carries ``user_message``: a sentence for the person at the keyboard. No Qt.
"""

from __future__ import annotations

from pathlib import Path


class CacheError(Exception):
    kind = "environment"
    default_message = "The encrypted cache could not be used."

    def __init__(self, user_message: str | None = None) -> None:
        self.user_message = user_message or self.default_message
        super().__init__(self.user_message)


class WrongKeyError(CacheError):
    default_message = ("The cache could not be opened with this key: the password does not match "
                       "this cache, or the file belongs to someone else. Nothing was changed.")


class NotADatabaseError(CacheError):
    default_message = "The cache file is not an MDT cache (not a database). Nothing was changed."


class CorruptCacheError(CacheError):
    default_message = "The cache is damaged. It has been moved aside; nothing was overwritten."

    def __init__(self, user_message: str | None = None, moved_to: Path | None = None) -> None:
        super().__init__(user_message)
        self.moved_to = moved_to


class CacheLockedError(CacheError):
    default_message = ("The cache is in use by another MDT window or program. Close it and "
                       "try again.")


class DiskFullError(CacheError):
    default_message = "The disk is full: free some space, then try again. Nothing was lost."


class KeystoreUnavailableError(CacheError):
    default_message = ("No OS keystore is available to hold the cache key (Windows Credential "
                       "Locker, macOS Keychain or Secret Service). MDT will not keep a key in "
                       "a plain file; ask your agency's IT to enable the keystore (or, where the agency "
                       "allows it, set keystore = \"wrapped-file\").")


class WrongPassphraseError(CacheError):
    def __init__(self, attempts_left: int) -> None:
        self.attempts_left = attempts_left
        super().__init__(
            f"Wrong password. {attempts_left} attempt{'s' if attempts_left != 1 else ''} left "
            "before this profile locks.")


class ProfileLockedError(CacheError):
    def __init__(self, until: float, now: float | None = None) -> None:
        import time

        self.until = until  # epoch seconds
        left = until - (time.time() if now is None else now)
        minutes = max(1, -int(-left // 60))  # rounded up
        super().__init__(f"Too many wrong passwords: this profile is locked for about "
                         f"{minutes} minute{'s' if minutes != 1 else ''}.")


class ProfileWipedError(CacheError):
    def __init__(self, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(f"{attempts} wrong passwords in a row: as the agency requires, this "
                         "terminal's cache for the profile was wiped. Sign in online to start a "
                         "new one.")


class NoProfileError(CacheError):
    default_message = "There is no profile for this user on this terminal yet."


class KeystoreDamagedError(CacheError):
    default_message = ("The key held by the OS keystore for this profile is damaged and cannot be "
                       "used. The cache cannot be opened; wipe the profile and sign in online.")


class CacheBugError(CacheError):
    kind = "bug"
    default_message = "MDT hit an internal problem with its cache. Please report it."
