import { describe, expect, it } from 'vitest';
import { ConfigError, defineConfig, gatewayConfig, sessionConfig, setting } from './index.js';

describe('service configuration', () => {
  it('applies defaults when nothing is set', () => {
    const cfg = gatewayConfig.load({});
    expect(cfg.httpPort).toBe(8080);
    expect(cfg.natsUrl).toEqual(['nats://127.0.0.1:4222']);
    expect(cfg.sessionAddress).toBe('127.0.0.1:50051');
    expect(cfg.logLevel).toBe('info');
    expect(cfg.otelExporterOtlpEndpoint).toBeUndefined();
  });

  it('reads and converts values from the environment', () => {
    const cfg = gatewayConfig.load({
      RUNPLANE_HTTP_PORT: '9090',
      RUNPLANE_NATS_URL: 'nats://a:4222, nats://b:4222',
      OTEL_SDK_DISABLED: 'yes',
    });
    expect(cfg.httpPort).toBe(9090);
    expect(cfg.natsUrl).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(cfg.otelSdkDisabled).toBe(true);
  });

  it('names every bad variable and the form it expects', () => {
    let caught: unknown;
    try {
      gatewayConfig.load({ RUNPLANE_HTTP_PORT: 'eighty', RUNPLANE_SESSION_GRPC_ADDRESS: 'nowhere' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const err = caught as ConfigError;
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('RUNPLANE_HTTP_PORT="eighty"');
    expect(err.message).toContain('a port number from 0 to 65535');
    expect(err.message).toContain('RUNPLANE_SESSION_GRPC_ADDRESS="nowhere"');
    expect(err.problems).toHaveLength(2);
  });

  it('does not echo secrets in its errors', () => {
    expect(() => sessionConfig.load({ RUNPLANE_DATABASE_URL: 'mysql://root:hunter2@db/app' })).toThrow(
      /RUNPLANE_DATABASE_URL=\(hidden\): expected a URL of the form postgres:\/\/… or postgresql:\/\/…/,
    );
    try {
      sessionConfig.load({ RUNPLANE_DATABASE_URL: 'mysql://root:hunter2@db/app' });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('rejects ports out of range and out-of-range integers', () => {
    expect(() => gatewayConfig.load({ RUNPLANE_HTTP_PORT: '70000' })).toThrow(/RUNPLANE_HTTP_PORT/);
    const spec = defineConfig('t', { n: setting.integer('N', { default: 3, min: 1, max: 5, doc: 'n' }) });
    expect(spec.load({ N: '4' }).n).toBe(4);
    expect(() => spec.load({ N: '6' })).toThrow(/N="6": expected an integer from 1 to 5/);
    expect(() => spec.load({ N: '2.5' })).toThrow(/N="2.5"/);
  });

  it('reports a required variable that is unset', () => {
    const spec = defineConfig('t', { key: setting.string('KEY', { doc: 'k' }) });
    expect(spec.load({}).key).toBeUndefined();
  });

  it('freezes the loaded configuration', () => {
    const cfg = gatewayConfig.load({});
    expect(Object.isFrozen(cfg)).toBe(true);
  });
});
