// Ports with some of their methods replaced, for tests that inject a fault or hold a step at a named
// point; everything not replaced goes to the real port.
import { type PortName, type Ports, viewPorts } from '../../lambdas/ports';

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

type Faults = { readonly [K in PortName]?: (port: Ports[K]) => Partial<Ports[K]> };

/** Wraps the ports lazily (each is opened on first use), replacing methods of the named ones. */
export function wrapping(faults: Faults): (ports: Ports) => Ports {
  return (ports) =>
    viewPorts(ports, (name, port) => {
      const fault = faults[name] as ((port: Ports[typeof name]) => Partial<Ports[typeof name]>) | undefined;
      return fault ? overriding(port, fault(port)) : port;
    });
}
