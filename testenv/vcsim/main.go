// vcsimlocal: a minimal launcher for the govmomi vCenter simulator library as
// packaged by Debian (golang-github-vmware-govmomi-dev 0.24.2), which ships the
// simulator library but not upstream's vcsim command. For local tests only: it
// listens on loopback and uses a self-signed certificate.
//
// Built by testenv/vcsim.sh in GOPATH mode from Debian's packages alone.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator" // registers the /rest endpoints
)

func main() {
	esx := flag.Bool("esx", false, "simulate a standalone ESXi host (HostAgent) instead of vCenter")
	listen := flag.String("l", "127.0.0.1:8989", "listen address (must be on loopback)")
	useTLS := flag.Bool("tls", true, "serve HTTPS with a self-signed certificate")
	user := flag.String("username", "user", "login user")
	pass := flag.String("password", "pass", "login password")
	envFile := flag.String("env-file", "", "write the GOVC_* variables to this file once listening")

	model := simulator.VPX()
	flag.IntVar(&model.Datacenter, "dc", model.Datacenter, "datacenters")
	flag.IntVar(&model.Cluster, "cluster", model.Cluster, "clusters per datacenter")
	flag.IntVar(&model.ClusterHost, "host", model.ClusterHost, "hosts per cluster")
	flag.IntVar(&model.Host, "standalone-host", model.Host, "standalone hosts per datacenter")
	flag.IntVar(&model.Datastore, "ds", model.Datastore, "local datastores")
	flag.IntVar(&model.Machine, "vm", model.Machine, "VMs per resource pool")
	flag.IntVar(&model.Pool, "pool", model.Pool, "extra resource pools per compute resource")
	flag.IntVar(&model.Folder, "folder", model.Folder, "extra folders")
	flag.IntVar(&model.Portgroup, "pg", model.Portgroup, "distributed port groups per datacenter")
	flag.IntVar(&model.PortgroupNSX, "pg-nsx", model.PortgroupNSX, "NSX-backed distributed port groups per datacenter")
	flag.IntVar(&model.OpaqueNetwork, "nsx", model.OpaqueNetwork, "NSX opaque networks per datacenter")
	flag.BoolVar(&model.Autostart, "autostart", model.Autostart, "power on the model's VMs")
	flag.Parse()

	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		log.Fatalf("bad -l %q: %v", *listen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		log.Fatalf("refusing to listen on %q: only loopback addresses are allowed", host)
	}

	if *esx {
		esxModel := simulator.ESX()
		esxModel.Datastore = model.Datastore
		esxModel.Machine = model.Machine
		esxModel.Autostart = model.Autostart
		model = esxModel
	}

	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	model.Service.RegisterEndpoints = true
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*user, *pass)}
	if *useTLS {
		model.Service.TLS = new(tls.Config)
	}
	s := model.Service.NewServer()
	u := *s.URL
	u.User = nil
	insecure := "0"
	if *useTLS {
		insecure = "1"
	}
	line := fmt.Sprintf("GOVC_URL=%s\nGOVC_USERNAME=%s\nGOVC_PASSWORD=%s\nGOVC_INSECURE=%s\nVCSIM_PID=%d\n",
		u.String(), *user, *pass, insecure, os.Getpid())
	if *envFile != "" {
		tmp := *envFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(line), 0o600); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(tmp, *envFile); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Print(line)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	s.Close()
	model.Remove()
}
