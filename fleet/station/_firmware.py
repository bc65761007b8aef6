"""Firmware updates, diagnostics and logs (1.6 sections 5.6, 5.16, 6.x and the Security
Whitepaper's SignedUpdateFirmware / GetLog; 2.0.1 functional blocks L and N): the answers a
station gives and, later, the status sequences it reports.

Mixins of the version machines (`StationMachine16`, `StationMachine201`): they use the
machine's queues, its `firmware` attribute and its one `firmware_at` timer (`firmware_due`).
"""

from __future__ import annotations

from typing import Any

from fleet.ocpp import Payload, v16, v201

__all__ = ["Firmware16", "Firmware201"]


class Firmware16:
    """OCPP 1.6: UpdateFirmware, GetDiagnostics, SignedUpdateFirmware, GetLog."""

    def answer_get_diagnostics(self, request: Any, now: float) -> Payload:
        return v16.GetDiagnosticsResponse()  # no file name: nothing to upload

    def answer_update_firmware(self, request: Any, now: float) -> Payload:
        return v16.UpdateFirmwareResponse()

    def answer_get_log(self, request: Any, now: float) -> Payload:
        return v16.GetLogResponse(status=v16.LogStatusEnum.REJECTED)

    def answer_signed_update_firmware(self, request: Any, now: float) -> Payload:
        return v16.SignedUpdateFirmwareResponse(status=v16.UpdateFirmwareStatusEnum.REJECTED)


class Firmware201:
    """OCPP 2.0.1: UpdateFirmware, GetLog, PublishFirmware, UnpublishFirmware."""

    def answer_get_log(self, request: Any, now: float) -> Payload:
        return v201.GetLogResponse(status=v201.LogStatusEnum.REJECTED)

    def answer_publish_firmware(self, request: Any, now: float) -> Payload:
        return v201.PublishFirmwareResponse(status=v201.GenericStatusEnum.REJECTED)

    def answer_unpublish_firmware(self, request: Any, now: float) -> Payload:
        return v201.UnpublishFirmwareResponse(status=v201.UnpublishFirmwareStatusEnum.NO_FIRMWARE)

    def answer_update_firmware(self, request: Any, now: float) -> Payload:
        return v201.UpdateFirmwareResponse(status=v201.UpdateFirmwareStatusEnum.REJECTED)
