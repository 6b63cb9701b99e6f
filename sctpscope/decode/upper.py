"""One-line summaries of the upper layer of a user message, where cheap: Diameter, M3UA, S1AP, NGAP.

Pure: bytes in, a summary out (or None when the bytes are not what the PPID says). Which protocol: the PPID
(46 Diameter, 3 M3UA, 18 S1AP, 60 NGAP); when the PPID is 0 ("unspecified", common with Diameter and NGAP
stacks) the well-known port of either endpoint decides, as tshark does (3868, 2905, 36412, 38412).

- Diameter (RFC 6733 §3): version 1, command code and name, Request/Answer (R bit), the E (error) bit,
  application id and name.
- M3UA (RFC 4666 §3.1): message class and type names; for DATA the OPC, DPC and SI of the Protocol Data.
- S1AP (3GPP TS 36.413) and NGAP (TS 38.413), ALIGNED PER: the PDU choice (initiatingMessage,
  successfulOutcome, unsuccessfulOutcome) and the procedure code with its name from the 3GPP tables.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

# -- Diameter -------------------------------------------------------------------------------------------

#: IANA "Command Codes" (RFC 6733 and the 3GPP applications), as Request/Answer pairs share one code.
DIAMETER_COMMANDS: dict[int, str] = {
    257: "Capabilities-Exchange", 258: "Re-Auth", 271: "Accounting", 272: "Credit-Control",
    274: "Abort-Session", 275: "Session-Termination", 280: "Device-Watchdog", 282: "Disconnect-Peer",
    265: "AA", 268: "Diameter-EAP", 283: "User-Authorization", 284: "Server-Assignment", 285: "Location-Info",
    286: "Multimedia-Auth", 287: "Registration-Termination", 288: "Push-Profile",
    300: "User-Authorization", 301: "Server-Assignment", 302: "Location-Info", 303: "Multimedia-Auth",
    304: "Registration-Termination", 305: "Push-Profile", 306: "User-Data", 307: "Profile-Update",
    308: "Subscribe-Notifications", 309: "Push-Notification",
    316: "Update-Location", 317: "Cancel-Location", 318: "Authentication-Information",
    319: "Insert-Subscriber-Data", 320: "Delete-Subscriber-Data", 321: "Purge-UE", 322: "Reset", 323: "Notify",
    324: "ME-Identity-Check", 8388620: "Provide-Location", 8388621: "Location-Report",
    8388622: "LCS-Routing-Info",
}

#: Diameter application ids (IANA "Application IDs"; 3GPP ones from TS 29.230).
DIAMETER_APPLICATIONS: dict[int, str] = {
    0: "Diameter Common Messages", 1: "NASREQ", 2: "Mobile IPv4", 3: "Diameter Base Accounting",
    4: "Diameter Credit Control", 5: "EAP", 6: "SIP", 0xFFFFFFFF: "Relay",
    16777216: "3GPP Cx", 16777217: "3GPP Sh", 16777222: "3GPP Gq", 16777236: "3GPP Rx", 16777238: "3GPP Gx",
    16777251: "3GPP S6a/S6d", 16777252: "3GPP S13", 16777255: "3GPP SLg", 16777265: "3GPP SWx",
    16777267: "3GPP S9", 16777272: "3GPP S6b", 16777291: "3GPP SLh", 16777312: "3GPP S6c",
}

# -- M3UA -----------------------------------------------------------------------------------------------

M3UA_CLASSES: dict[int, str] = {0: "MGMT", 1: "Transfer", 2: "SSNM", 3: "ASPSM", 4: "ASPTM", 9: "RKM"}
M3UA_TYPES: dict[tuple[int, int], str] = {
    (0, 0): "ERR", (0, 1): "NTFY",
    (1, 1): "DATA",
    (2, 1): "DUNA", (2, 2): "DAVA", (2, 3): "DAUD", (2, 4): "SCON", (2, 5): "DUPU", (2, 6): "DRST",
    (3, 1): "ASPUP", (3, 2): "ASPDN", (3, 3): "BEAT", (3, 4): "ASPUP_ACK", (3, 5): "ASPDN_ACK", (3, 6): "BEAT_ACK",
    (4, 1): "ASPAC", (4, 2): "ASPIA", (4, 3): "ASPAC_ACK", (4, 4): "ASPIA_ACK",
    (9, 1): "REG_REQ", (9, 2): "REG_RSP", (9, 3): "DEREG_REQ", (9, 4): "DEREG_RSP",
}
#: MTP3 service indicator (ITU-T Q.704 §14.2.1)
MTP3_SI: dict[int, str] = {0: "SNM", 1: "MTN", 2: "MTNS", 3: "SCCP", 4: "TUP", 5: "ISUP", 6: "DUP (CC)",
                           7: "DUP (FAC/CANC)", 8: "MTP Test", 9: "ISUP-b", 10: "ISUP-s", 12: "AAL type 2",
                           13: "BICC", 14: "GCP"}
_M3UA_PROTOCOL_DATA = 0x0210

# -- S1AP / NGAP ----------------------------------------------------------------------------------------

APER_PDU = ("initiatingMessage", "successfulOutcome", "unsuccessfulOutcome")

#: 3GPP TS 36.413 §9.3.7, ProcedureCode
S1AP_PROCEDURES: dict[int, str] = dict(enumerate((
    "HandoverPreparation", "HandoverResourceAllocation", "HandoverNotification", "PathSwitchRequest",
    "HandoverCancel", "E-RABSetup", "E-RABModify", "E-RABRelease", "E-RABReleaseIndication", "InitialContextSetup",
    "Paging", "downlinkNASTransport", "initialUEMessage", "uplinkNASTransport", "Reset", "ErrorIndication",
    "NASNonDeliveryIndication", "S1Setup", "UEContextReleaseRequest", "DownlinkS1cdma2000tunnelling",
    "UplinkS1cdma2000tunnelling", "UEContextModification", "UECapabilityInfoIndication", "UEContextRelease",
    "eNBStatusTransfer", "MMEStatusTransfer", "DeactivateTrace", "TraceStart", "TraceFailureIndication",
    "ENBConfigurationUpdate", "MMEConfigurationUpdate", "LocationReportingControl",
    "LocationReportingFailureIndication", "LocationReport", "OverloadStart", "OverloadStop", "WriteReplaceWarning",
    "eNBDirectInformationTransfer", "MMEDirectInformationTransfer", "PrivateMessage", "eNBConfigurationTransfer",
    "MMEConfigurationTransfer", "CellTrafficTrace", "Kill", "downlinkUEAssociatedLPPaTransport",
    "uplinkUEAssociatedLPPaTransport", "downlinkNonUEAssociatedLPPaTransport", "uplinkNonUEAssociatedLPPaTransport",
    "UERadioCapabilityMatch", "PWSRestartIndication", "E-RABModificationIndication", "PWSFailureIndication",
    "RerouteNASRequest", "UEContextModificationIndication", "ConnectionEstablishmentIndication",
    "UEContextSuspend", "UEContextResume", "NASDeliveryIndication", "RetrieveUEInformation",
    "UEInformationTransfer", "eNBCPRelocationIndication", "MMECPRelocationIndication",
    "SecondaryRATDataUsageReport", "UERadioCapabilityIDMapping", "HandoverSuccess", "eNBEarlyStatusTransfer",
    "MMEEarlyStatusTransfer",
)))

#: 3GPP TS 38.413 §9.4.7, ProcedureCode
NGAP_PROCEDURES: dict[int, str] = dict(enumerate((
    "AMFConfigurationUpdate", "AMFStatusIndication", "CellTrafficTrace", "DeactivateTrace", "DownlinkNASTransport",
    "DownlinkNonUEAssociatedNRPPaTransport", "DownlinkRANConfigurationTransfer", "DownlinkRANStatusTransfer",
    "DownlinkUEAssociatedNRPPaTransport", "ErrorIndication", "HandoverCancel", "HandoverNotification",
    "HandoverPreparation", "HandoverResourceAllocation", "InitialContextSetup", "InitialUEMessage",
    "LocationReportingControl", "LocationReportingFailureIndication", "LocationReport", "NASNonDeliveryIndication",
    "NGReset", "NGSetup", "OverloadStart", "OverloadStop", "Paging", "PathSwitchRequest",
    "PDUSessionResourceModify", "PDUSessionResourceModifyIndication", "PDUSessionResourceRelease",
    "PDUSessionResourceSetup", "PDUSessionResourceNotify", "PrivateMessage", "PWSCancel", "PWSFailureIndication",
    "PWSRestartIndication", "RANConfigurationUpdate", "RerouteNASRequest", "RRCInactiveTransitionReport",
    "TraceFailureIndication", "TraceStart", "UEContextModification", "UEContextRelease", "UEContextReleaseRequest",
    "UERadioCapabilityCheck", "UERadioCapabilityInfoIndication", "UETNLABindingRelease", "UplinkNASTransport",
    "UplinkNonUEAssociatedNRPPaTransport", "UplinkRANConfigurationTransfer", "UplinkRANStatusTransfer",
    "UplinkUEAssociatedNRPPaTransport", "WriteReplaceWarning", "SecondaryRATDataUsageReport",
    "UplinkRIMInformationTransfer", "DownlinkRIMInformationTransfer", "RetrieveUEInformation",
    "UEInformationTransfer", "RANCPRelocationIndication", "UEContextResume", "UEContextSuspend",
    "UERadioCapabilityIDMapping", "HandoverSuccess", "UplinkRANEarlyStatusTransfer",
    "DownlinkRANEarlyStatusTransfer", "AMFCPRelocationIndication", "ConnectionEstablishmentIndication",
    "BroadcastSessionModification", "BroadcastSessionRelease", "BroadcastSessionSetup", "DistributionSetup",
    "DistributionRelease", "MulticastSessionActivation", "MulticastSessionDeactivation", "MulticastSessionUpdate",
    "MulticastGroupPaging", "BroadcastSessionReleaseRequired",
)))

# -- which protocol -------------------------------------------------------------------------------------

PPID_PROTOCOLS = {46: "diameter", 3: "m3ua", 18: "s1ap", 60: "ngap"}
PORT_PROTOCOLS = {3868: "diameter", 2905: "m3ua", 36412: "s1ap", 38412: "ngap"}
#: bytes of a message a summary reads at most (M3UA looks for its Protocol Data within them)
SUMMARY_BYTES = 256


def protocol_for(ppid: int | None, sport: int | None = None, dport: int | None = None) -> str | None:
    """'diameter', 'm3ua', 's1ap', 'ngap' or None: by PPID, or by well-known port when the PPID is 0."""
    p = PPID_PROTOCOLS.get(ppid) if ppid is not None else None
    if p is None and not ppid:
        p = PORT_PROTOCOLS.get(dport) or PORT_PROTOCOLS.get(sport)  # type: ignore[arg-type]
    return p


@dataclass(slots=True)
class Upper:
    """A summary: the protocol, one line of text, and the decoded fields (for tests and the TUI)."""

    protocol: str
    text: str
    fields: dict = field(default_factory=dict)


def diameter(data: bytes) -> Upper | None:
    if len(data) < 20 or data[0] != 1:
        return None
    length = int.from_bytes(data[1:4], "big")
    flags = data[4]
    code = int.from_bytes(data[5:8], "big")
    app, hbh, e2e = struct.unpack_from(">III", data, 8)
    if length < 20:
        return None
    request = bool(flags & 0x80)
    name = DIAMETER_COMMANDS.get(code, "command")
    appname = DIAMETER_APPLICATIONS.get(app)
    text = f"Diameter {name} {'Request' if request else 'Answer'} ({code}), application " + \
        (f"{appname} ({app})" if appname else str(app))
    if flags & 0x20:
        text += ", E bit (error)"
    return Upper("diameter", text, {"version": 1, "length": length, "flags": flags, "request": request,
                                    "error": bool(flags & 0x20), "command_code": code,
                                    "command": DIAMETER_COMMANDS.get(code), "application_id": app,
                                    "application": appname, "hop_by_hop": hbh, "end_to_end": e2e})


def m3ua(data: bytes) -> Upper | None:
    if len(data) < 8 or data[0] != 1:
        return None
    cls, typ = data[2], data[3]
    length = int.from_bytes(data[4:8], "big")
    cname = M3UA_CLASSES.get(cls, f"class {cls}")
    tname = M3UA_TYPES.get((cls, typ), f"type {typ}")
    fields = {"version": 1, "message_class": cls, "message_type": typ, "length": length,
              "class_name": M3UA_CLASSES.get(cls), "type_name": M3UA_TYPES.get((cls, typ))}
    text = f"M3UA {cname} {tname}"
    if (cls, typ) == (1, 1):
        p = 8
        end = min(len(data), length)
        while p + 4 <= end:
            tag, plen = struct.unpack_from(">HH", data, p)
            if plen < 4:
                break
            if tag == _M3UA_PROTOCOL_DATA and p + 16 <= len(data) and plen >= 16:
                opc, dpc, si, ni, mp, sls = struct.unpack_from(">IIBBBB", data, p + 4)
                fields.update(opc=opc, dpc=dpc, si=si, ni=ni, mp=mp, sls=sls)
                si_name = MTP3_SI.get(si)
                text += f" OPC {opc} DPC {dpc} SI {si}" + (f" ({si_name})" if si_name else "")
                break
            p += (plen + 3) & ~3
    return Upper("m3ua", text, fields)


def _aper(data: bytes, proto: str, table: dict[int, str]) -> Upper | None:
    if len(data) < 2 or data[0] & 0x80:
        return None
    choice = (data[0] >> 5) & 0x03
    if choice > 2:
        return None
    code = data[1]
    pname = table.get(code)
    label = proto.upper()
    text = f"{label} {APER_PDU[choice]} {pname or 'procedure'} ({code})"
    return Upper(proto, text, {"pdu": choice, "pdu_name": APER_PDU[choice], "procedure_code": code,
                               "procedure": pname})


def s1ap(data: bytes) -> Upper | None:
    return _aper(data, "s1ap", S1AP_PROCEDURES)


def ngap(data: bytes) -> Upper | None:
    return _aper(data, "ngap", NGAP_PROCEDURES)


_DECODERS = {"diameter": diameter, "m3ua": m3ua, "s1ap": s1ap, "ngap": ngap}


def summarize(ppid: int | None, data: bytes | bytearray | memoryview, sport: int | None = None,
              dport: int | None = None) -> Upper | None:
    """The upper-layer summary of one user message (its first bytes suffice), or None."""
    proto = protocol_for(ppid, sport, dport)
    if proto is None:
        return None
    return _DECODERS[proto](bytes(data[:SUMMARY_BYTES]))
