package main

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/loadgen"
	"oms-sim/loadgen/scenario"
)

func (o runOptions) engineConfig(d broker.Dialer, kind, note string, log *slog.Logger, sc *scenario.Scenario) (engine.Config, error) {
	cfg := engine.Config{
		Dialer: d, BrokerKind: kind, BrokerNote: note, QueueType: o.queueType, Namespace: o.namespace, Process: o.process,
		Seed: o.seed, EmailSink: o.emailSink, RecentOrders: o.recentOrders, MaxBacklog: o.maxBacklog, Logger: log,
		IdempotencyKeys: o.idemKeys, IdempotencyTTL: o.idemTTL, ManagementURL: o.managementURL(),
		AdminToken: o.adminToken(), AdminInsecure: o.insecureAdmin && o.adminToken() == "", ManagementTLS: o.tlsConf,
		// The flags' values (typed or default); a scenario's broker:
		// section replaces them below unless the flag was typed.
		BodyBytes: o.bodyBytes, Transient: !o.persistent, Connections: o.connections,
		Stages: map[string]engine.StageConfig{},
	}
	for _, r := range strings.Split(o.roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			cfg.Roles = append(cfg.Roles, r)
		}
	}
	if sc != nil {
		loadgen.ApplyToConfig(sc, &cfg)
	}
	// Flags the user set win over the scenario; the others give way.
	var errs []error
	if o.changed("body-bytes") {
		cfg.BodyBytes = o.bodyBytes
	}
	if cfg.BodyBytes < 0 || cfg.BodyBytes > engine.MaxMessageBytes {
		errs = append(errs, fmt.Errorf("--body-bytes %d: must be 0 (the order JSON as it is) to %d", cfg.BodyBytes, engine.MaxMessageBytes))
	}
	if o.changed("persistent") {
		cfg.Transient = !o.persistent
	}
	if o.changed("connections") {
		cfg.Connections = o.connections
	}
	if !slices.Contains(engine.ConnLayouts, cfg.Connections) {
		errs = append(errs, fmt.Errorf("--connections %q: valid are %s", cfg.Connections, strings.Join(engine.ConnLayouts, ", ")))
	}
	for name, sf := range o.stages {
		st, ok := cfg.Stages[name]
		if !ok {
			st = engine.DefaultStageConfig()
		}
		if o.changed(name+"-workers") || sc == nil {
			st.Workers = sf.workers
		}
		if o.changed(name+"-prefetch") || sc == nil {
			st.Prefetch = sf.prefetch
		}
		if o.changed(name+"-service-time") || sc == nil {
			dist, err := engine.ParseDist(sf.serviceTime)
			if err != nil {
				errs = append(errs, fmt.Errorf("--%s-service-time: %w", name, err))
			}
			st.ServiceTime = dist
		}
		cfg.Stages[name] = st
	}
	return cfg, errors.Join(errs...)
}
