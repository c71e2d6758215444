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
    default_message = ("The disk holding the cache is full: MDT can still show what is cached, "
                       "but cannot save anything new. Free some space, then try again. Nothing "
                       "already saved was lost.")


class ReadOnlyCacheError(CacheError):
    default_message = ("The cache is read-only: MDT can show what is cached but cannot save. "
                       "Check the file's permissions.")


class CacheIOError(CacheError):
    default_message = ("The drive holding the cache reported a read or write error (not a full "
                       "disk): it may be failing or was unplugged. Check the drive, then try "
                       "again.")


class PasswordChangedError(CacheError):
    """The gateway accepted the password, but it does not unwrap this terminal's cache key: the
    password was changed elsewhere. Never a wrong password: nothing was counted."""

    default_message = (
        "Your password was changed since you last signed in on this terminal. The gateway "
        "accepted the new one (nothing was counted as a wrong password), but this terminal's "
        "cache is still locked with the previous one. Enter your previous password once to keep "
        "the cache (queued queries and open alerts stay), or start fresh (the old cache is "
        "erased).")


class InvalidUserIdError(CacheError):
    def __init__(self, user_id: str) -> None:
        shown = "".join(ch if ch.isprintable() else "?" for ch in user_id)[:40]
        super().__init__(
            f"'{shown}' is not a valid user id: use 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or a digit.")


class KeystoreUnavailableError(CacheError):
    default_message = ("No OS keystore is available to hold the cache key (Windows Credential "
                       "Locker, macOS Keychain or Secret Service). MDT will not keep a key in "
                       "a plain file; ask your agency's IT to enable the keystore (or, where the agency "
                       "allows it, set keystore = \"wrapped-file\" in settings.json in MDT's "
                       "configuration folder, or in the agency file's [locked] section).")


class KeystoreLockedError(KeystoreUnavailableError):
    default_message = ("The OS keystore is locked, so the cache key cannot be read or kept. "
                       "Unlock it and sign in again: on Linux, unlock the \"Login\" keyring in "
                       "Passwords and Keys (seahorse) or sign out of the desktop and back in; "
                       "on Windows or macOS, sign in to your account again.")


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
