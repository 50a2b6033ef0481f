"""Information elements: the IANA IPFIX registry (RFC 7012, numbers shared with NetFlow v9 RFC 3954).

Each element has a name (used as the key in the ``extra`` column) and a *kind* that
says how its bytes are turned into a value: an unsigned integer of any length
(reduced-size encoding allowed), an address, a MAC, a string, a timestamp or raw bytes.
Elements the decoder maps onto ``schema.FLOW`` columns are listed in :data:`MAPPED`;
every other known element goes to ``extra`` as ``name=value`` text. Enterprise-specific
elements are skipped by length, except the reverse direction of RFC 5103 (enterprise
29305) whose counters fill ``opkt``/``obyt``.
"""

from __future__ import annotations

from typing import Final

__all__ = ["IE", "KIND_IP4", "KIND_IP6", "KIND_MAC", "KIND_RAW", "KIND_STR", "KIND_UINT", "MAPPED",
           "REVERSE_PEN", "ie_kind", "ie_name"]

KIND_UINT: Final = "uint"
KIND_IP4: Final = "ip4"
KIND_IP6: Final = "ip6"
KIND_MAC: Final = "mac"
KIND_STR: Final = "str"
KIND_RAW: Final = "raw"

#: RFC 5103 reverse information elements live under this private enterprise number.
REVERSE_PEN: Final = 29305

_U, _4, _6, _M, _S, _R = KIND_UINT, KIND_IP4, KIND_IP6, KIND_MAC, KIND_STR, KIND_RAW

#: element id -> (name, kind); names as in the IANA registry.
IE: dict[int, tuple[str, str]] = {
    1: ("octetDeltaCount", _U), 2: ("packetDeltaCount", _U), 3: ("deltaFlowCount", _U),
    4: ("protocolIdentifier", _U), 5: ("ipClassOfService", _U), 6: ("tcpControlBits", _U),
    7: ("sourceTransportPort", _U), 8: ("sourceIPv4Address", _4), 9: ("sourceIPv4PrefixLength", _U),
    10: ("ingressInterface", _U), 11: ("destinationTransportPort", _U), 12: ("destinationIPv4Address", _4),
    13: ("destinationIPv4PrefixLength", _U), 14: ("egressInterface", _U), 15: ("ipNextHopIPv4Address", _4),
    16: ("bgpSourceAsNumber", _U), 17: ("bgpDestinationAsNumber", _U), 18: ("bgpNextHopIPv4Address", _4),
    19: ("postMCastPacketDeltaCount", _U), 20: ("postMCastOctetDeltaCount", _U),
    21: ("flowEndSysUpTime", _U), 22: ("flowStartSysUpTime", _U), 23: ("postOctetDeltaCount", _U),
    24: ("postPacketDeltaCount", _U), 25: ("minimumIpTotalLength", _U), 26: ("maximumIpTotalLength", _U),
    27: ("sourceIPv6Address", _6), 28: ("destinationIPv6Address", _6), 29: ("sourceIPv6PrefixLength", _U),
    30: ("destinationIPv6PrefixLength", _U), 31: ("flowLabelIPv6", _U), 32: ("icmpTypeCodeIPv4", _U),
    33: ("igmpType", _U), 34: ("samplingInterval", _U), 35: ("samplingAlgorithm", _U),
    36: ("flowActiveTimeout", _U), 37: ("flowIdleTimeout", _U), 38: ("engineType", _U), 39: ("engineId", _U),
    40: ("exportedOctetTotalCount", _U), 41: ("exportedMessageTotalCount", _U),
    42: ("exportedFlowRecordTotalCount", _U), 44: ("sourceIPv4Prefix", _4), 45: ("destinationIPv4Prefix", _4),
    46: ("mplsTopLabelType", _U), 47: ("mplsTopLabelIPv4Address", _4), 48: ("samplerId", _U),
    49: ("samplerMode", _U), 50: ("samplerRandomInterval", _U), 51: ("classId", _U),
    52: ("minimumTTL", _U), 53: ("maximumTTL", _U), 54: ("fragmentIdentification", _U),
    55: ("postIpClassOfService", _U), 56: ("sourceMacAddress", _M), 57: ("postDestinationMacAddress", _M),
    58: ("vlanId", _U), 59: ("postVlanId", _U), 60: ("ipVersion", _U), 61: ("flowDirection", _U),
    62: ("ipNextHopIPv6Address", _6), 63: ("bgpNextHopIPv6Address", _6), 64: ("ipv6ExtensionHeaders", _U),
    70: ("mplsTopLabelStackSection", _R), 71: ("mplsLabelStackSection2", _R),
    72: ("mplsLabelStackSection3", _R), 73: ("mplsLabelStackSection4", _R),
    74: ("mplsLabelStackSection5", _R), 75: ("mplsLabelStackSection6", _R),
    76: ("mplsLabelStackSection7", _R), 77: ("mplsLabelStackSection8", _R),
    78: ("mplsLabelStackSection9", _R), 79: ("mplsLabelStackSection10", _R),
    80: ("destinationMacAddress", _M), 81: ("postSourceMacAddress", _M), 82: ("interfaceName", _S),
    83: ("interfaceDescription", _S), 84: ("samplerName", _S), 85: ("octetTotalCount", _U),
    86: ("packetTotalCount", _U), 88: ("fragmentOffset", _U), 89: ("forwardingStatus", _U),
    90: ("mplsVpnRouteDistinguisher", _R), 91: ("mplsTopLabelPrefixLength", _U), 94: ("applicationDescription", _S),
    95: ("applicationId", _R), 96: ("applicationName", _S), 98: ("postIpDiffServCodePoint", _U),
    99: ("multicastReplicationFactor", _U), 128: ("bgpNextAdjacentAsNumber", _U),
    129: ("bgpPrevAdjacentAsNumber", _U), 130: ("exporterIPv4Address", _4), 131: ("exporterIPv6Address", _6),
    132: ("droppedOctetDeltaCount", _U), 133: ("droppedPacketDeltaCount", _U),
    136: ("flowEndReason", _U), 137: ("commonPropertiesId", _U), 138: ("observationPointId", _U),
    139: ("icmpTypeCodeIPv6", _U), 140: ("mplsTopLabelIPv6Address", _6), 141: ("lineCardId", _U),
    142: ("portId", _U), 143: ("meteringProcessId", _U), 144: ("exportingProcessId", _U),
    145: ("templateId", _U), 146: ("wlanChannelId", _U), 147: ("wlanSSID", _S), 148: ("flowId", _U),
    149: ("observationDomainId", _U), 150: ("flowStartSeconds", _U), 151: ("flowEndSeconds", _U),
    152: ("flowStartMilliseconds", _U), 153: ("flowEndMilliseconds", _U),
    154: ("flowStartMicroseconds", _U), 155: ("flowEndMicroseconds", _U),
    156: ("flowStartNanoseconds", _U), 157: ("flowEndNanoseconds", _U),
    158: ("flowStartDeltaMicroseconds", _U), 159: ("flowEndDeltaMicroseconds", _U),
    160: ("systemInitTimeMilliseconds", _U), 161: ("flowDurationMilliseconds", _U),
    162: ("flowDurationMicroseconds", _U), 163: ("observedFlowTotalCount", _U),
    164: ("ignoredPacketTotalCount", _U), 165: ("ignoredOctetTotalCount", _U),
    176: ("icmpTypeIPv4", _U), 177: ("icmpCodeIPv4", _U), 178: ("icmpTypeIPv6", _U), 179: ("icmpCodeIPv6", _U),
    180: ("udpSourcePort", _U), 181: ("udpDestinationPort", _U), 182: ("tcpSourcePort", _U),
    183: ("tcpDestinationPort", _U), 184: ("tcpSequenceNumber", _U), 185: ("tcpAcknowledgementNumber", _U),
    186: ("tcpWindowSize", _U), 189: ("ipHeaderLength", _U), 190: ("totalLengthIPv4", _U),
    192: ("ipTTL", _U), 193: ("nextHeaderIPv6", _U), 195: ("ipDiffServCodePoint", _U),
    196: ("ipPrecedence", _U), 197: ("fragmentFlags", _U), 198: ("octetDeltaSumOfSquares", _U),
    205: ("udpMessageLength", _U), 206: ("isMulticast", _U), 210: ("paddingOctets", _R),
    211: ("collectorIPv4Address", _4), 212: ("collectorIPv6Address", _6), 213: ("exportInterface", _U),
    214: ("exportProtocolVersion", _U), 215: ("exportTransportProtocol", _U),
    216: ("collectorTransportPort", _U), 217: ("exporterTransportPort", _U),
    218: ("tcpSynTotalCount", _U), 219: ("tcpFinTotalCount", _U), 220: ("tcpRstTotalCount", _U),
    221: ("tcpPshTotalCount", _U), 222: ("tcpAckTotalCount", _U), 223: ("tcpUrgTotalCount", _U),
    224: ("ipTotalLength", _U), 225: ("postNATSourceIPv4Address", _4),
    226: ("postNATDestinationIPv4Address", _4), 227: ("postNAPTSourceTransportPort", _U),
    228: ("postNAPTDestinationTransportPort", _U), 229: ("natOriginatingAddressRealm", _U),
    230: ("natEvent", _U), 231: ("initiatorOctets", _U), 232: ("responderOctets", _U),
    233: ("firewallEvent", _U), 234: ("ingressVRFID", _U), 235: ("egressVRFID", _U), 236: ("VRFname", _S),
    237: ("postMplsTopLabelExp", _U), 238: ("tcpWindowScale", _U), 239: ("biflowDirection", _U),
    243: ("dot1qVlanId", _U), 244: ("dot1qPriority", _U), 245: ("dot1qCustomerVlanId", _U),
    252: ("ingressPhysicalInterface", _U), 253: ("egressPhysicalInterface", _U),
    254: ("postDot1qVlanId", _U), 255: ("postDot1qCustomerVlanId", _U), 256: ("ethernetType", _U),
    258: ("collectionTimeMilliseconds", _U), 260: ("maxExportSeconds", _U), 261: ("maxFlowEndSeconds", _U),
    262: ("messageMD5Checksum", _R), 263: ("messageScope", _U), 264: ("minExportSeconds", _U),
    265: ("minFlowStartSeconds", _U), 266: ("opaqueOctets", _R), 267: ("sessionScope", _U),
    270: ("maxFlowEndMilliseconds", _U), 272: ("maxFlowEndNanoseconds", _U),
    276: ("maxFlowEndMicroseconds", _U),
    281: ("postNATSourceIPv6Address", _6), 282: ("postNATDestinationIPv6Address", _6),
    283: ("natPoolId", _U), 284: ("natPoolName", _S), 285: ("anonymizationFlags", _U),
    298: ("initiatorPackets", _U), 299: ("responderPackets", _U), 300: ("observationDomainName", _S),
    302: ("selectorId", _U), 304: ("selectorAlgorithm", _U), 305: ("samplingPacketInterval", _U),
    306: ("samplingPacketSpace", _U), 309: ("samplingSize", _U), 310: ("samplingPopulation", _U),
    313: ("ipHeaderPacketSection", _R), 315: ("dataLinkFrameSection", _R), 316: ("mplsLabelStackSection", _R),
    322: ("observationTimeSeconds", _U), 323: ("observationTimeMilliseconds", _U),
    324: ("observationTimeMicroseconds", _U), 325: ("observationTimeNanoseconds", _U),
    346: ("privateEnterpriseNumber", _U), 351: ("layer2SegmentId", _U), 352: ("layer2OctetDeltaCount", _U),
    361: ("portRangeStart", _U), 362: ("portRangeEnd", _U), 363: ("portRangeStepSize", _U),
    364: ("portRangeNumPorts", _U), 368: ("ingressInterfaceType", _U), 369: ("egressInterfaceType", _U),
    372: ("dataLinkFrameType", _U), 373: ("dataLinkFrameSize", _U), 405: ("layer2FrameDeltaCount", _U),
    410: ("sectionExportedOctets", _U), 411: ("ipv4Options", _U), 430: ("layer2FrameTotalCount", _U),
    432: ("layer2OctetTotalCount", _U), 458: ("srcTrafficIndex", _U), 459: ("dstTrafficIndex", _U),
    460: ("vlanName", _S), 469: ("flowPortTypes", _U), 470: ("layer2FrameDeltaCount", _U),
    471: ("layer2FrameTotalCount", _U),
}

#: Elements that fill a ``schema.FLOW`` column (timestamps, addresses, ports, counters...).
MAPPED: frozenset[int] = frozenset(
    {1, 2, 4, 5, 6, 7, 8, 10, 11, 12, 14, 16, 17, 21, 22, 23, 24, 27, 28, 32, 55, 61, 85, 86, 89, 139,
     150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 176, 177, 178, 179, 210, 231, 232, 298, 299}
)


def ie_name(ie: int, pen: int = 0) -> str:
    """The element's name; unknown ones are ``ie<id>`` (or ``e<pen>.<id>`` for enterprise elements).

    Examples
    --------
    >>> ie_name(8), ie_name(999), ie_name(1, 29305)
    ('sourceIPv4Address', 'ie999', 'e29305.1')
    """
    if pen:
        return f"e{pen}.{ie}"
    return IE[ie][0] if ie in IE else f"ie{ie}"


def ie_kind(ie: int, length: int, pen: int = 0) -> str:
    """How to render the element: its registry kind, else an unsigned int up to 8 bytes, else raw bytes."""
    if not pen and ie in IE:
        kind = IE[ie][1]
        if kind == KIND_UINT and length > 8:
            return KIND_RAW
        return kind
    return KIND_UINT if 0 < length <= 8 else KIND_RAW
