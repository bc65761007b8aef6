"""The device model beyond configuration: certificates, display messages, variable
monitoring, network profiles, GetReport (1.6 Security Whitepaper; 2.0.1 functional blocks A,
B, M, N, O).

Mixins of the version machines (`StationMachine16`, `StationMachine201`).
`DEVICE_MODEL_VARIABLES` are 2.0.1 variables the machine's store starts with, besides its own.
"""

from __future__ import annotations

from typing import Any

from fleet.ocpp import Payload, v16, v201

__all__ = ["DEVICE_MODEL_VARIABLES", "DeviceModel16", "DeviceModel201"]

# (component, variable) -> (value, read-only), merged into the 2.0.1 machine's defaults.
DEVICE_MODEL_VARIABLES: dict[tuple[str, str], tuple[str, bool]] = {}


class DeviceModel16:
    """OCPP 1.6 Security Whitepaper: the certificate store."""

    def answer_certificate_signed(self, request: Any, now: float) -> Payload:
        return v16.CertificateSignedResponse(status=v16.CertificateSignedStatusEnum.REJECTED)

    def answer_delete_certificate(self, request: Any, now: float) -> Payload:
        return v16.DeleteCertificateResponse(status=v16.DeleteCertificateStatusEnum.NOT_FOUND)

    def answer_get_installed_certificate_ids(self, request: Any, now: float) -> Payload:
        return v16.GetInstalledCertificateIdsResponse(
            status=v16.GetInstalledCertificateStatusEnum.NOT_FOUND
        )

    def answer_install_certificate(self, request: Any, now: float) -> Payload:
        return v16.InstallCertificateResponse(status=v16.InstallCertificateStatusEnum.REJECTED)


class DeviceModel201:
    """OCPP 2.0.1: certificates, display messages, monitoring, network profiles, GetReport,
    customer information, cost updates."""

    def answer_certificate_signed(self, request: Any, now: float) -> Payload:
        return v201.CertificateSignedResponse(status=v201.CertificateSignedStatusEnum.REJECTED)

    def answer_clear_display_message(self, request: Any, now: float) -> Payload:
        return v201.ClearDisplayMessageResponse(status=v201.ClearMessageStatusEnum.UNKNOWN)

    def answer_cost_updated(self, request: Any, now: float) -> Payload:
        return v201.CostUpdatedResponse()

    def answer_customer_information(self, request: Any, now: float) -> Payload:
        return v201.CustomerInformationResponse(status=v201.CustomerInformationStatusEnum.REJECTED)

    def answer_delete_certificate(self, request: Any, now: float) -> Payload:
        return v201.DeleteCertificateResponse(status=v201.DeleteCertificateStatusEnum.NOT_FOUND)

    def answer_get_display_messages(self, request: Any, now: float) -> Payload:
        return v201.GetDisplayMessagesResponse(status=v201.GetDisplayMessagesStatusEnum.UNKNOWN)

    def answer_get_installed_certificate_ids(self, request: Any, now: float) -> Payload:
        return v201.GetInstalledCertificateIdsResponse(
            status=v201.GetInstalledCertificateStatusEnum.NOT_FOUND
        )

    def answer_get_monitoring_report(self, request: Any, now: float) -> Payload:
        return v201.GetMonitoringReportResponse(
            status=v201.GenericDeviceModelStatusEnum.NOT_SUPPORTED
        )

    def answer_get_report(self, request: Any, now: float) -> Payload:
        return v201.GetReportResponse(status=v201.GenericDeviceModelStatusEnum.NOT_SUPPORTED)

    def answer_install_certificate(self, request: Any, now: float) -> Payload:
        return v201.InstallCertificateResponse(status=v201.InstallCertificateStatusEnum.REJECTED)

    def answer_set_display_message(self, request: Any, now: float) -> Payload:
        return v201.SetDisplayMessageResponse(status=v201.DisplayMessageStatusEnum.REJECTED)

    def answer_set_monitoring_base(self, request: Any, now: float) -> Payload:
        return v201.SetMonitoringBaseResponse(
            status=v201.GenericDeviceModelStatusEnum.NOT_SUPPORTED
        )

    def answer_set_monitoring_level(self, request: Any, now: float) -> Payload:
        return v201.SetMonitoringLevelResponse(status=v201.GenericStatusEnum.REJECTED)

    def answer_set_network_profile(self, request: Any, now: float) -> Payload:
        return v201.SetNetworkProfileResponse(status=v201.SetNetworkProfileStatusEnum.REJECTED)

    def answer_clear_variable_monitoring(
        self, request: v201.ClearVariableMonitoringRequest, now: float
    ) -> Payload:
        return v201.ClearVariableMonitoringResponse(
            clear_monitoring_result=[
                v201.ClearMonitoringResult(status=v201.ClearMonitoringStatusEnum.NOT_FOUND, id=i)
                for i in request.id
            ]
        )

    def answer_set_variable_monitoring(
        self, request: v201.SetVariableMonitoringRequest, now: float
    ) -> Payload:
        return v201.SetVariableMonitoringResponse(
            set_monitoring_result=[
                v201.SetMonitoringResult(
                    status=v201.SetMonitoringStatusEnum.REJECTED,
                    type=item.type,
                    component=item.component,
                    variable=item.variable,
                    severity=item.severity,
                )
                for item in request.set_monitoring_data
            ]
        )
