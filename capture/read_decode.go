package capture

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/google/gopacket/layers"
)

// decoder takes a packet apart down to its TCP segment. It decodes the
// link layer itself (gopacket v1.1.19's LinuxSLL slices by the header's
// address length unchecked and panics on a short packet, and it has no
// SLL2) and leaves IP and TCP to gopacket's layers, reusing one of each.
type decoder struct {
	ip4 layers.IPv4
	ip6 layers.IPv6
	tcp layers.TCP
	fb  feedback

	src, dst netip.Addr
	// cut says that the packet holds less of the segment than its IP
	// header says: the capture's snap length cut it.
	cut bool
	// fragment says that the packet is an IP fragment, which is not
	// reassembled.
	fragment bool
}

// feedback records gopacket's report that a packet is truncated.
type feedback struct{ truncated bool }

func (f *feedback) SetTruncated() { f.truncated = true }

// Address families of a loopback header, as the BSDs and Linux number
// them.
const (
	afInet     = 2
	afInet6BSD = 24 // NetBSD, OpenBSD
	afInet6Fre = 28 // FreeBSD
	afInet6Mac = 30 // macOS
	afInet6Lnx = 10 // Linux
)

const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86DD
	etherVLAN = 0x8100
	etherQinQ = 0x88A8
	etherOldQ = 0x9100
)

// decode decodes data of link type link. It returns false, with a reason,
// for a packet that is not a TCP segment over IP (or could not be
// decoded); d.tcp is the segment otherwise.
func (d *decoder) decode(link int, data []byte) (ok bool, why string) {
	d.cut, d.fragment = false, false
	var ether uint16
	switch link {
	case linkEthernet:
		if len(data) < 14 {
			return false, "short Ethernet frame"
		}
		ether, data = binary.BigEndian.Uint16(data[12:]), data[14:]
		for tags := 0; (ether == etherVLAN || ether == etherQinQ || ether == etherOldQ) && tags < 3; tags++ {
			if len(data) < 4 {
				return false, "short VLAN tag"
			}
			ether, data = binary.BigEndian.Uint16(data[2:]), data[4:]
		}
	case linkSLL:
		if len(data) < 16 {
			return false, "short Linux cooked header"
		}
		ether, data = binary.BigEndian.Uint16(data[14:]), data[16:]
	case linkSLL2:
		if len(data) < 20 {
			return false, "short Linux cooked v2 header"
		}
		ether, data = binary.BigEndian.Uint16(data), data[20:]
	case linkNull, linkLoop:
		if len(data) < 4 {
			return false, "short loopback header"
		}
		// DLT_NULL's family is in the byte order of the machine that
		// wrote it, DLT_LOOP's big-endian; either way it is below 256.
		fam := binary.BigEndian.Uint32(data)
		if link == linkNull && fam > 0xFF {
			fam = binary.LittleEndian.Uint32(data)
		}
		switch fam {
		case afInet:
			ether = etherIPv4
		case afInet6BSD, afInet6Fre, afInet6Mac, afInet6Lnx:
			ether = etherIPv6
		}
		data = data[4:]
	case linkRaw, linkRawAlt, linkIPv4, linkIPv6:
		if len(data) > 0 {
			switch data[0] >> 4 {
			case 4:
				ether = etherIPv4
			case 6:
				ether = etherIPv6
			}
		}
	default:
		return false, fmt.Sprintf("link type %d", link)
	}
	d.fb = feedback{}
	var proto layers.IPProtocol
	switch ether {
	case etherIPv4:
		if err := d.ip4.DecodeFromBytes(data, &d.fb); err != nil {
			return false, "bad IPv4 header"
		}
		if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
			d.fragment = true
			return false, "IPv4 fragment"
		}
		d.src, _ = netip.AddrFromSlice(d.ip4.SrcIP.To4())
		d.dst, _ = netip.AddrFromSlice(d.ip4.DstIP.To4())
		proto, data = d.ip4.Protocol, d.ip4.Payload
	case etherIPv6:
		if err := d.ip6.DecodeFromBytes(data, &d.fb); err != nil {
			return false, "bad IPv6 header"
		}
		d.src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
		d.dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
		proto, data = d.ip6.NextHeader, d.ip6.Payload
		if d.ip6.HopByHop != nil {
			// gopacket takes a hop-by-hop header as part of IPv6:
			// the payload follows it, and the next header is its.
			proto = d.ip6.HopByHop.NextHeader
		}
		// Skip the extension headers before TCP.
		for hops := 0; hops < 8; hops++ {
			var n int
			switch proto {
			case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination:
				if len(data) < 2 {
					return false, "short IPv6 extension header"
				}
				n = (int(data[1]) + 1) * 8
			case layers.IPProtocolAH:
				if len(data) < 2 {
					return false, "short IPv6 extension header"
				}
				n = (int(data[1]) + 2) * 4
			case layers.IPProtocolIPv6Fragment:
				d.fragment = true
				return false, "IPv6 fragment"
			}
			if n == 0 {
				break
			}
			if len(data) < n {
				return false, "short IPv6 extension header"
			}
			proto, data = layers.IPProtocol(data[0]), data[n:]
		}
	default:
		return false, "not IP"
	}
	if proto != layers.IPProtocolTCP {
		return false, "not TCP"
	}
	d.cut = d.fb.truncated
	if err := d.tcp.DecodeFromBytes(data, &d.fb); err != nil {
		return false, "bad TCP header"
	}
	return true, ""
}
