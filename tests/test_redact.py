"""Redaction corpus: secrets are masked, the identifiers an engineer needs are left exactly as written."""

from __future__ import annotations

import pytest

from flowpilot_tui.services.redact import find_secrets, looks_random, redact

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nq3Zp0Lk9vR2mW8xT5nB4cY6jF1dG0sAhQ7vZ3kP9m"

# (text, secret that must disappear, expected kind)
POSITIVES = [
    ("password: Hunter2!", "Hunter2!", "password"),
    ("Password = 'Winter2025'", "Winter2025", "password"),
    ("pwd=Tr0ub4dor&3", "Tr0ub4dor&3", "password"),
    ("passwd:  c0rrect-horse", "c0rrect-horse", "password"),
    ("login with pass=Secr3t then reboot", "Secr3t", "password"),
    ("The new password is Spring#2025.", "Spring#2025", "password"),
    ("Reset the VPN password to Autumn!99 for jsmith", "Autumn!99", "password"),
    ("Her password was changed to Blue-Sky-42", "Blue-Sky-42", "password"),
    ('{"username": "svc_backup", "password": "Xy9!qLm 2"}', "Xy9!qLm 2", "password"),
    ("Server=SQL01;Database=Billing;User Id=sa;Password=Pa55w0rd!;", "Pa55w0rd!", "password"),
    ("mysql --user=root --password=r00tPw now", "r00tPw", "password"),
    ("postgres://app:S3cretPass@db01.contoso.local:5432/app", "S3cretPass", "connection_string"),
    ("redis://:qwerty123@cache01:6379", "qwerty123", "connection_string"),
    (
        "key sk-ant-api03-Zx81kQm2Lp9Vw4Rt7Yb3Nc6Hd0Jf5Gs_AbCdEf in env",
        "sk-ant-api03-Zx81kQm2Lp9Vw4Rt7Yb3Nc6Hd0Jf5Gs_AbCdEf",
        "api_key",
    ),
    ("OPENAI sk-proj-4fT9kLm2Qw8Zx1Rv7Yb3Nc6Hd0Jp", "sk-proj-4fT9kLm2Qw8Zx1Rv7Yb3Nc6Hd0Jp", "api_key"),
    ("ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "api_key"),
    ("gho_16C7e42F292c6912E7710c838347Ae178B4a", "gho_16C7e42F292c6912E7710c838347Ae178B4a", "api_key"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijKLMNOP", "github_pat_11ABCDEFG0123456789_abcdefghijKLMNOP", "api_key"),
    ("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKl", "xoxb-123456789012-1234567890123-AbCdEfGhIjKl", "api_key"),
    ("aws AKIAIOSFODNN7EXAMPLE region eu-west-1", "AKIAIOSFODNN7EXAMPLE", "api_key"),
    ("maps AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "api_key"),
    ("gitlab glpat-Xk29fLq8ZpW3mN7vB4cR", "glpat-Xk29fLq8ZpW3mN7vB4cR", "api_key"),
    ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "api_key"),
    ("Authorization: Bearer abc123.DEF456-ghi789_jkl", "abc123.DEF456-ghi789_jkl", "bearer_token"),
    ("Authorization: Basic c3ZjX2JhY2t1cDpIdW50ZXIy", "c3ZjX2JhY2t1cDpIdW50ZXIy", "bearer_token"),
    (f"cookie token {JWT} expired", JWT, "jwt"),
    ("client_secret=Q~8xR.fake_value-42", "Q~8xR.fake_value-42", "secret"),
    (
        "DefaultEndpointsProtocol=https;AccountName=st01;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==;",
        "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==",
        "secret",
    ),
    ("use hQ7vZ3kP9mW2xR5tL8nB4cY6jF1dG0sA for the sync job", "hQ7vZ3kP9mW2xR5tL8nB4cY6jF1dG0sA", "high_entropy"),
    ("aws secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq81Lm3Tk", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq81Lm3Tk", "high_entropy"),
    (
        f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----",
        f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----",
        "private_key",
    ),
    (f"pasted: -----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}", PEM_BODY, "private_key"),
]

# Text an engineer needs verbatim: none of it may be touched.
NEGATIVES = [
    "Ticket #123456 reopened; see CW ticket 987654 and SR-2024-0042.",
    "FS01.contoso.local and dc01.corp.contoso.com at 10.20.30.40, gateway 192.168.1.1, fe80::1ff:fe23:4567:890a",
    "GUID {3F2504E0-4F89-11D3-9A0C-0305E82C3301} and 6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    "KB5034441 failed with 0x80070005 and 0x800f0922; event 4625 0xC000006D NT_STATUS_LOGON_FAILURE",
    r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE and \\FS01\Shares\Finance2024\Q3",
    "/var/log/sssd/sssd_CONTOSO.log and /home/jsmith/Downloads/AnyConnectSetup64bit2024.msi",
    "Windows 10 22H2 build 10.0.19045.3693, Office 16.0.17126.20132, Chrome 120.0.6099.130",
    "SID S-1-5-21-3623811015-3361044348-30300820-1013 owns the folder",
    "SHA256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 "
    "thumbprint 3B1EFD3A66EA28B16697394703A72CA340A05BD5",
    "MicrosoftExchangeServer2019 ConfigurationManagerClient2012R2 SharePointOnlineManagementShell16",
    r"Get-ItemProperty HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion -Name ReleaseId",
    "The user's password expired; password reset via ADUC. Password: reset by helpdesk. Password is incorrect.",
    "MAC 00-1A-2B-3C-4D-5E, phone +1 (555) 010-9999, at 2024-05-01T10:22:33Z, email alice@contoso.com",
    "Bypass=true compass: north; PWD=/home/bob; the token is expired",
    "Sent the password reset link to jsmith; reset the password to the policy default is not possible.",
    "https://contoso.sharepoint.com/sites/ITOps/Shared%20Documents/Runbook2024.docx",
    "password: [REDACTED:password] was already masked; pwd=******",
    "Printer HP-LaserJet-M608-Floor2-East queue stuck; driver HP Universal Print Driver PCL6 v7.0.1",
]


@pytest.mark.parametrize(("text", "secret", "kind"), POSITIVES)
def test_secret_is_masked_with_its_kind(text: str, secret: str, kind: str) -> None:
    result = redact(text)
    assert secret not in result.text
    assert f"[REDACTED:{kind}]" in result.text
    assert [item.kind for item in result.items] == [kind]
    item = result.items[0]
    assert text[item.start : item.end] == item.original
    assert secret in item.original


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_identifiers_survive(text: str) -> None:
    result = redact(text)
    assert result.text == text
    assert result.items == []


def test_label_stays_only_the_value_is_masked() -> None:
    assert redact("VPN password: Hunter2! (user jsmith)").text == "VPN password: [REDACTED:password] (user jsmith)"


def test_several_secrets_in_order_and_count() -> None:
    text = "pwd=abc123 then token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 on FS01.contoso.local"
    result = redact(text)
    assert result.count == 2
    assert [i.kind for i in result.items] == ["password", "api_key"]
    assert result.text == "pwd=[REDACTED:password] then token [REDACTED:api_key] on FS01.contoso.local"


def test_deterministic_and_idempotent() -> None:
    text = "password: Hunter2! and postgres://a:b@h/db and " + JWT
    first = redact(text)
    assert redact(text) == first
    again = redact(first.text)
    assert again.text == first.text
    assert again.count == 0


def test_find_secrets_never_changes_the_text() -> None:
    text = "Hi Jane, your temporary password is Welcome2024! - please change it at first logon."
    before = str(text)
    found = find_secrets(text)
    assert text == before
    assert [(f.kind, f.original) for f in found] == [("password", "Welcome2024!")]


def test_unterminated_private_key_is_masked_to_the_blank_line() -> None:
    text = f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n\nNext paragraph stays."
    result = redact(text)
    assert PEM_BODY not in result.text
    assert result.text.endswith("Next paragraph stays.")


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("Xk29fLq8ZpW3mN7vB4cR1tY6", True),
        ("QmFzZTY0RW5jb2RlZFNlY3JldDEyMzQ1Ng==", True),
        ("Windows10Enterprise22H2Build", False),
        ("aaaaaaaaaaaaaaaaaaaaaaaa1A", False),
    ],
)
def test_entropy_check(token: str, expected: bool) -> None:
    assert looks_random(token) is expected
