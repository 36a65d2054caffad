package devserver

import (
	"fmt"
	"net"
	"strconv"
)

// freePorts asks the kernel for n distinct unused TCP ports on ip.
//
// All listeners are held open until every port has been picked, so the ports
// returned by one call never collide with each other. They are released
// before returning, so another process could in theory grab one before the
// server binds it; for a local dev server that window is acceptable.
func freePorts(ip string, n int) ([]int, error) {
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return nil, fmt.Errorf("devserver: pick free port on %s: %w", ip, err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// checkPortFree reports an error if ip:port cannot be bound right now.
func checkPortFree(ip string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}

// dialHost returns the address clients should dial to reach a listener bound
// on ip: the loopback address of the same family when ip is unspecified
// (0.0.0.0 or ::), ip itself otherwise.
func dialHost(ip string) string {
	parsed := net.ParseIP(ip)
	switch {
	case parsed == nil || !parsed.IsUnspecified():
		return ip
	case parsed.To4() != nil:
		return "127.0.0.1"
	default:
		return "::1"
	}
}
