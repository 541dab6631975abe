import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** The real `cdk synth`: esbuild bundles every function here, with no Docker and no network. */
describe('npx cdk synth', () => {
  const out = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('synthesizes the dev stage offline, bundling each function with esbuild', () => {
    // Act
    const result = spawnSync('npx', ['cdk', 'synth', '-c', 'stage=dev', '--quiet', '--output', out], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' },
    });

    // Assess
    expect(result.stderr).not.toMatch(/docker/i);
    expect(result.status, result.stderr).toBe(0);
    const template = JSON.parse(readFileSync(join(out, 'CompanyMigration-dev.template.json'), 'utf8'));
    const codeKeys = Object.values(
      template.Resources as Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>,
    )
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => r.Properties.Code?.S3Key?.replace('.zip', '') ?? '');
    expect(codeKeys).toHaveLength(9);
    for (const key of codeKeys) {
      const bundle = join(out, `asset.${key}`, 'index.mjs');
      expect(existsSync(bundle), bundle).toBe(true);
      expect(statSync(bundle).size).toBeGreaterThan(10_000);
      expect(readFileSync(bundle, 'utf8')).not.toContain('@electric-sql/pglite/dist');
    }
    expect(readdirSync(out).some((f) => f.endsWith('.json') && f.startsWith('asset.'))).toBe(true);
  });
});
