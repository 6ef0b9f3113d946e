// Ports with some of their methods replaced, for tests that inject a fault or hold a step at a named
// point; everything not replaced goes to the real port.
import type { Ports } from '../../lambdas/steps/deps';

/** Forwards everything to `target` except the methods in `overrides`. */
export function overriding<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (prop in overrides) return overrides[prop as keyof T];
      const value = Reflect.get(t, prop, receiver);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

type Overrides<K extends keyof Ports> = (port: Ports[K]) => Partial<Ports[K]>;

/** Wraps the ports lazily (each is opened on first use), replacing methods of the named ones. */
export function wrapping(faults: {
  source?: Overrides<'source'>;
  stage?: Overrides<'stage'>;
  warehouse?: Overrides<'warehouse'>;
}): (ports: Ports) => Ports {
  return (ports) => ({
    get source() {
      return faults.source ? overriding(ports.source, faults.source(ports.source)) : ports.source;
    },
    get stage() {
      return faults.stage ? overriding(ports.stage, faults.stage(ports.stage)) : ports.stage;
    },
    get warehouse() {
      return faults.warehouse
        ? overriding(ports.warehouse, faults.warehouse(ports.warehouse))
        : ports.warehouse;
    },
  });
}
