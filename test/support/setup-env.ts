// Runs in every test worker before any test module loads: keep every library on loopback.
import { installLoopbackGuard } from '../../local/loopback-guard';

process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
installLoopbackGuard();
// Inherited by every command line a test starts, which then installs the same guard.
process.env.TALLY_LOOPBACK_ONLY = '1';
