"""The generated message modules are up to date, and the generator's naming is sound."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fleet.ocpp import Direction, codegen, v16, v201


def test_generated_modules_are_up_to_date() -> None:
    for path, text in codegen.render_all().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is stale: run `python -m fleet.ocpp.codegen`"
        )


def test_check_mode_exits_non_zero_on_drift(tmp_path, monkeypatch) -> None:
    # --check against a tampered copy must fail; against the real files it must pass.
    real = codegen.render_all()
    stale = {tmp_path / path.name: text + "# tampered\n" for path, text in real.items()}
    for path, text in stale.items():
        path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(
        codegen, "render_all", lambda: {p: real[r] for p, r in zip(stale, real, strict=True)}
    )
    assert codegen.main(["--check"]) == 1
    monkeypatch.undo()
    assert codegen.main(["--check"]) == 0


def test_check_mode_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fleet.ocpp.codegen", "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("camel", "snake"),
    [
        ("chargePointVendor", "charge_point_vendor"),
        ("responderURL", "responder_url"),
        ("iso15118SchemaVersion", "iso15118_schema_version"),
        ("ePriceLevel", "e_price_level"),
        ("fullSoC", "full_soc"),
        ("evseId", "evse_id"),
    ],
)
def test_field_names(camel: str, snake: str) -> None:
    assert codegen.snake_case(camel) == snake


def test_fields_whose_names_do_not_round_trip_keep_their_wire_name() -> None:
    # responderURL -> responder_url -> "responderUrl" under rename="camel": must be pinned.
    data = v201.OCSPRequestData(
        hash_algorithm=v201.HashAlgorithmEnum.SHA256,
        issuer_name_hash="a",
        issuer_key_hash="b",
        serial_number="c",
        responder_url="http://ocsp.example",
    )
    import msgspec

    assert b'"responderURL"' in msgspec.json.encode(data)


def test_directions_match_the_specifications() -> None:
    def senders(actions):
        cp = {n for n, s in actions.items() if Direction.CHARGE_POINT_TO_CSMS in s.direction}
        csms = {n for n, s in actions.items() if Direction.CSMS_TO_CHARGE_POINT in s.direction}
        return cp, csms

    cp16, csms16 = senders(v16.ACTIONS)
    # 1.6: 19 core + 7 Security Whitepaper actions sent by the CSMS, DataTransfer both ways.
    assert len(csms16) == 26 and len(cp16) == 14 and cp16 & csms16 == {"DataTransfer"}
    assert {"BootNotification", "StartTransaction", "SignCertificate"} <= cp16
    assert {"RemoteStartTransaction", "GetLog", "ExtendedTriggerMessage"} <= csms16
    cp201, csms201 = senders(v201.ACTIONS)
    assert len(csms201) == 40 and len(cp201) == 25 and cp201 & csms201 == {"DataTransfer"}
    assert {"TransactionEvent", "NotifyReport", "Get15118EVCertificate"} <= cp201
    assert {"RequestStartTransaction", "GetBaseReport", "SetVariables"} <= csms201


def test_1_6_types_carry_the_specification_names() -> None:
    assert v16.AuthorizeResponse.__annotations__["id_tag_info"] in ("IdTagInfo", v16.IdTagInfo)
    assert set(v16.ChargePointStatus) >= {v16.ChargePointStatus.CHARGING}
    assert v16.RegistrationStatus("Pending") is v16.RegistrationStatus.PENDING
    assert v16.Measurand.ENERGY_ACTIVE_IMPORT_REGISTER == "Energy.Active.Import.Register"
