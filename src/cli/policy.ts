import { readConfigFile } from '../config/file.js';
import { defaultPolicyConfig, parsePolicyConfig, type PolicyConfig } from '../config/policy.js';
import { ErrorCode, GracekeeperError } from '../errors.js';
import { isObject } from '../engine/workload.js';
import { RULE_IDS } from '../rules/index.js';

/**
 * The policy from the `policy:` section of a Gracekeeper config file (the other sections configure the
 * server), or the defaults without one. Errors name the file and the field.
 */
export function loadPolicy(path: string | undefined): PolicyConfig {
  if (path === undefined) return defaultPolicyConfig();
  const file = readConfigFile(path);
  if (!isObject(file)) throw new GracekeeperError(ErrorCode.ConfigInvalid, 'must be a mapping with a policy: section', path);
  if (file.policy === undefined && 'rules' in file) {
    throw new GracekeeperError(ErrorCode.ConfigInvalid, "'rules' belongs under 'policy:' (policy.rules)", `${path}: rules`);
  }
  try {
    return parsePolicyConfig(file.policy, RULE_IDS, 'policy');
  } catch (e) {
    if (e instanceof GracekeeperError) throw new GracekeeperError(e.code, e.message, path);
    throw e;
  }
}
