// Warehouses and resource monitors as Tally's administrator script sets them up: CREATE RESOURCE MONITOR with its
// properties and triggers, CREATE and ALTER WAREHOUSE with theirs, who may assign a monitor, and SHOW WAREHOUSES /
// SHOW RESOURCE MONITORS answering what was set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionState } from '../../local/snowflake/engine-types';
import {
  ALTER_WAREHOUSE,
  CREATE_RESOURCE_MONITOR,
  CREATE_WAREHOUSE,
  DROP_RESOURCE_MONITOR,
  SHOW_RESOURCE_MONITORS,
  SHOW_WAREHOUSES,
} from './docs';
import { byName, eachCase, type Harness, startHarness } from './harness';

let h: Harness;
let admin: SessionState;
let n = 0;

/** The statement Tally's administrator script sends, for a monitor of its own name. */
const tallyMonitor = (name: string) =>
  `CREATE RESOURCE MONITOR IF NOT EXISTS ${name} WITH CREDIT_QUOTA = 100 FREQUENCY = MONTHLY START_TIMESTAMP = IMMEDIATELY TRIGGERS ON 80 PERCENT DO NOTIFY ON 100 PERCENT DO SUSPEND`;

beforeAll(async () => {
  h = await startHarness();
  admin = h.session('ACCOUNTADMIN');
  await h.run(tallyMonitor('TALLY_MONITOR'), admin);
});

afterAll(async () => {
  await h.close();
});

const unique = (prefix: string) => `${prefix}_${++n}`;

async function shown(sql: string, session: SessionState = admin) {
  return byName(await h.run(sql, session));
}

/** A new role with the given grants, and a session in it. */
async function roleWith(grants: readonly string[]): Promise<SessionState> {
  const role = unique('WH_ROLE');
  await h.run(`create role ${role}`, admin);
  for (const g of grants) await h.run(`grant ${g} to role ${role}`, admin);
  return h.session(role);
}

describe('CREATE RESOURCE MONITOR', () => {
  it(`creates the administrator script's monitor and keeps it for SHOW RESOURCE MONITORS (${CREATE_RESOURCE_MONITOR})`, async () => {
    const name = unique('MONITOR');
    const created = await h.run(tallyMonitor(name), admin);
    expect(created.rows).toEqual([[`Resource monitor ${name} successfully created.`]]);
    expect(await shown(`show resource monitors like '${name.toLowerCase()}'`)).toEqual([
      { name, frequency: 'MONTHLY', level: null, owner: 'ACCOUNTADMIN' },
    ]);
    expect((await h.run(tallyMonitor(name), admin)).rows[0]?.[0]).toBe(
      `${name} already exists, statement succeeded.`,
    );
  });

  it(`"can only be executed by account administrators": SYSADMIN is refused (${CREATE_RESOURCE_MONITOR})`, async () => {
    await expect(h.run(tallyMonitor(unique('MONITOR')), h.session('SYSADMIN'))).rejects.toMatchObject({
      code: '003001',
    });
  });

  eachCase(
    [
      { with: 'FREQUENCY = DAILY START_TIMESTAMP = IMMEDIATELY' },
      { with: "FREQUENCY = WEEKLY START_TIMESTAMP = '2099-01-01'" },
      {
        with: "FREQUENCY = YEARLY START_TIMESTAMP = '2099-01-01 08:30' END_TIMESTAMP = '2099-12-31 23:59:59'",
      },
      { with: 'FREQUENCY = NEVER START_TIMESTAMP = IMMEDIATELY' },
      {
        with: 'CREDIT_QUOTA = 5000 TRIGGERS ON 75 PERCENT DO NOTIFY ON 100 PERCENT DO SUSPEND ON 110 PERCENT DO SUSPEND_IMMEDIATE',
      },
      { with: '' },
    ],
    (c) =>
      `takes the documented properties and triggers: WITH ${c.with || '(nothing)'} (${CREATE_RESOURCE_MONITOR})`,
    async (c) => {
      const name = unique('MONITOR');
      await h.run(`create resource monitor ${name} with ${c.with}`, admin);
      expect((await shown(`show resource monitors like '${name}'`)).map((r) => r.name)).toEqual([name]);
    },
  );

  eachCase(
    [
      { why: 'an unknown property', with: 'CREDIT_LIMIT = 5', code: '001003' },
      {
        why: 'a frequency it does not list',
        with: 'FREQUENCY = HOURLY START_TIMESTAMP = IMMEDIATELY',
        code: '001006',
      },
      { why: 'a credit quota that is no number', with: "CREDIT_QUOTA = 'many'", code: '001006' },
      { why: 'a frequency without START_TIMESTAMP', with: 'FREQUENCY = MONTHLY', code: '001006' },
      { why: 'a START_TIMESTAMP without a frequency', with: 'START_TIMESTAMP = IMMEDIATELY', code: '001006' },
      {
        why: 'a timestamp that is no date',
        with: "FREQUENCY = DAILY START_TIMESTAMP = '2099-02-30'",
        code: '001006',
      },
      { why: 'an action it does not list', with: 'TRIGGERS ON 80 PERCENT DO ALERT', code: '001003' },
      {
        why: 'more than 5 NOTIFY triggers',
        with: `TRIGGERS ${[10, 20, 30, 40, 50, 60].map((p) => `ON ${p} PERCENT DO NOTIFY`).join(' ')}`,
        code: '001006',
      },
      {
        why: 'users to notify, who must have verified email addresses',
        with: 'NOTIFY_USERS = (JDOE)',
        code: '000002',
      },
    ],
    (c) => `refuses ${c.why} with ${c.code} (${CREATE_RESOURCE_MONITOR})`,
    async (c) => {
      await expect(
        h.run(`create resource monitor ${unique('MONITOR')} with ${c.with}`, admin),
      ).rejects.toMatchObject({ code: c.code });
    },
  );

  it(`refuses OR REPLACE together with IF NOT EXISTS, and a monitor without WITH (${CREATE_RESOURCE_MONITOR})`, async () => {
    await expect(
      h.run('create or replace resource monitor if not exists both with credit_quota = 1', admin),
    ).rejects.toMatchObject({ code: '001003' });
    await expect(h.run('create resource monitor bare credit_quota = 1', admin)).rejects.toMatchObject({
      code: '001003',
    });
  });
});

describe('CREATE WAREHOUSE', () => {
  it(`creates the administrator script's warehouse with its properties, as SHOW WAREHOUSES answers (${CREATE_WAREHOUSE})`, async () => {
    const session = h.session('ACCOUNTADMIN');
    const name = unique('TALLY_WH');
    const created = await h.run(
      `CREATE WAREHOUSE IF NOT EXISTS ${name} WITH WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE RESOURCE_MONITOR = TALLY_MONITOR COMMENT = 'Tally loads'`,
      session,
    );
    expect(created.rows).toEqual([[`Warehouse ${name} successfully created.`]]);
    expect(await shown(`SHOW WAREHOUSES LIKE '${name}'`, session)).toEqual([
      expect.objectContaining({
        name,
        size: 'X-Small',
        auto_suspend: '60',
        auto_resume: 'true',
        resource_monitor: 'TALLY_MONITOR',
        comment: 'Tally loads',
        owner: 'ACCOUNTADMIN',
        // "Creating a virtual warehouse automatically sets it as the warehouse in use for the current session."
        is_current: 'Y',
      }),
    ]);
    expect(await shown(`show resource monitors like 'TALLY_MONITOR'`)).toEqual([
      expect.objectContaining({ level: 'WAREHOUSE' }),
    ]);
  });

  it(`starts from the documented defaults: XSMALL, AUTO_SUSPEND 600, AUTO_RESUME TRUE, no monitor (${CREATE_WAREHOUSE})`, async () => {
    const name = unique('PLAIN_WH');
    await h.run(`create warehouse ${name}`, admin);
    expect(await shown(`show warehouses like '${name}'`)).toEqual([
      expect.objectContaining({
        size: 'X-Small',
        auto_suspend: '600',
        auto_resume: 'true',
        resource_monitor: null,
      }),
    ]);
  });

  eachCase(
    [
      { set: "WAREHOUSE_SIZE = 'X-LARGE'", column: 'size', value: 'X-Large' },
      { set: 'WAREHOUSE_SIZE = X2LARGE', column: 'size', value: '2X-Large' },
      { set: "WAREHOUSE_SIZE = '3X-LARGE'", column: 'size', value: '3X-Large' },
      { set: 'WAREHOUSE_SIZE = MEDIUM', column: 'size', value: 'Medium' },
      { set: 'AUTO_SUSPEND = NULL', column: 'auto_suspend', value: null },
      { set: 'AUTO_SUSPEND = 0', column: 'auto_suspend', value: '0' },
      { set: 'AUTO_RESUME = FALSE', column: 'auto_resume', value: 'false' },
    ],
    (c) => `takes ${c.set} (${CREATE_WAREHOUSE})`,
    async (c) => {
      const name = unique('SIZED_WH');
      await h.run(`create warehouse ${name} ${c.set}`, admin);
      expect((await shown(`show warehouses like '${name}'`))[0]?.[c.column]).toBe(c.value);
    },
  );

  eachCase(
    [
      { why: 'a size it does not list', set: 'WAREHOUSE_SIZE = HUGE', code: '001006' },
      { why: 'a negative AUTO_SUSPEND', set: 'AUTO_SUSPEND = -1', code: '001006' },
      { why: 'a fractional AUTO_SUSPEND', set: 'AUTO_SUSPEND = 1.5', code: '001006' },
      { why: 'AUTO_RESUME other than TRUE or FALSE', set: 'AUTO_RESUME = maybe', code: '001006' },
      {
        why: 'a resource monitor that does not exist',
        set: 'RESOURCE_MONITOR = NO_SUCH_MONITOR',
        code: '002003',
      },
      { why: 'an unknown property, by name', set: 'AUTO_STOP = 60', code: '001003' },
      { why: 'a documented property it does not model', set: 'MAX_CLUSTER_COUNT = 2', code: '000002' },
    ],
    (c) => `refuses ${c.why} with ${c.code} (${CREATE_WAREHOUSE})`,
    async (c) => {
      await expect(h.run(`create warehouse ${unique('BAD_WH')} ${c.set}`, admin)).rejects.toMatchObject({
        code: c.code,
      });
    },
  );

  it(`refuses OR REPLACE together with IF NOT EXISTS (${CREATE_WAREHOUSE})`, async () => {
    await expect(h.run('create or replace warehouse if not exists both_wh', admin)).rejects.toMatchObject({
      code: '001003',
    });
  });

  it(`needs CREATE WAREHOUSE, and "Only the ACCOUNTADMIN role can assign warehouses to resource monitors" (${ALTER_WAREHOUSE})`, async () => {
    const sysadmin = h.session('SYSADMIN');
    await expect(
      h.run(`create warehouse ${unique('SYS_WH')} resource_monitor = TALLY_MONITOR`, sysadmin),
    ).rejects.toMatchObject({ code: '003001' });
    const name = unique('SYS_WH');
    await h.run(`create warehouse ${name} auto_suspend = 120`, sysadmin);
    expect(await shown(`show warehouses like '${name}'`, sysadmin)).toEqual([
      expect.objectContaining({ owner: 'SYSADMIN', auto_suspend: '120' }),
    ]);
    await expect(h.run(`create warehouse ${unique('NONE_WH')}`, await roleWith([]))).rejects.toMatchObject({
      code: '003001',
    });
  });
});

describe('ALTER WAREHOUSE', () => {
  async function warehouse(owner: SessionState = admin): Promise<string> {
    const name = unique('ALTERED_WH');
    await h.run(`create warehouse ${name} warehouse_size = small auto_suspend = 600 comment = 'kept'`, owner);
    return name;
  }

  it(`sets AUTO_SUSPEND and RESOURCE_MONITOR as the administrator script does, keeping the rest (${ALTER_WAREHOUSE})`, async () => {
    const name = await warehouse();
    const altered = await h.run(
      `ALTER WAREHOUSE ${name} SET AUTO_SUSPEND = 60 RESOURCE_MONITOR = TALLY_MONITOR`,
      admin,
    );
    expect(altered.rows).toEqual([['Statement executed successfully.']]);
    expect(await shown(`show warehouses like '${name}'`)).toEqual([
      expect.objectContaining({
        size: 'Small',
        auto_suspend: '60',
        resource_monitor: 'TALLY_MONITOR',
        comment: 'kept',
      }),
    ]);
    // SET takes properties "separated by blank spaces, commas, or new lines".
    await h.run(`alter warehouse ${name} set auto_resume = false, warehouse_size = 'X-SMALL'`, admin);
    expect(await shown(`show warehouses like '${name}'`)).toEqual([
      expect.objectContaining({ auto_resume: 'false', size: 'X-Small' }),
    ]);
  });

  it(`needs MODIFY, MANAGE WAREHOUSES or ownership, and ACCOUNTADMIN to assign a resource monitor (${ALTER_WAREHOUSE})`, async () => {
    const name = await warehouse(h.session('SYSADMIN'));
    const user = await roleWith([`usage on warehouse ${name}`]);
    await expect(h.run(`alter warehouse ${name} set auto_suspend = 60`, user)).rejects.toMatchObject({
      code: '003001',
    });
    const none = await roleWith([]);
    await expect(h.run(`alter warehouse ${name} set auto_suspend = 60`, none)).rejects.toMatchObject({
      code: '002003',
    });
    const modifier = await roleWith([`modify on warehouse ${name}`]);
    await h.run(`alter warehouse ${name} set auto_suspend = 90`, modifier);
    // "The granting of the global MANAGE WAREHOUSES privilege is equivalent to granting the MODIFY, MONITOR,
    // and OPERATE privileges on all warehouses in an account."
    await h.run(
      `alter warehouse ${name} set auto_suspend = 30`,
      await roleWith(['manage warehouses on account']),
    );
    await h.run(`alter warehouse ${name} set auto_suspend = 60`, h.session('SYSADMIN'));
    expect((await shown(`show warehouses like '${name}'`))[0]?.auto_suspend).toBe('60');
    for (const role of [modifier, h.session('SYSADMIN')]) {
      await expect(
        h.run(`alter warehouse ${name} set resource_monitor = TALLY_MONITOR`, role),
      ).rejects.toMatchObject({ code: '003001' });
    }
  });

  it(`succeeds with IF EXISTS on a missing warehouse and otherwise answers that it does not exist (${ALTER_WAREHOUSE})`, async () => {
    expect((await h.run('alter warehouse if exists no_such_wh set auto_suspend = 60', admin)).rows).toEqual([
      ['Statement executed successfully.'],
    ]);
    await expect(h.run('alter warehouse no_such_wh set auto_suspend = 60', admin)).rejects.toMatchObject({
      code: '002003',
    });
  });

  it(`resets properties with UNSET, "except WAREHOUSE_SIZE, which can only be changed using SET" (${ALTER_WAREHOUSE})`, async () => {
    const name = await warehouse();
    await h.run(`alter warehouse ${name} set auto_suspend = 60 resource_monitor = TALLY_MONITOR`, admin);
    await h.run(`alter warehouse ${name} unset auto_suspend, resource_monitor, comment`, admin);
    expect(await shown(`show warehouses like '${name}'`)).toEqual([
      expect.objectContaining({ auto_suspend: '600', resource_monitor: null, comment: '' }),
    ]);
    await expect(h.run(`alter warehouse ${name} unset warehouse_size`, admin)).rejects.toMatchObject({
      code: '001006',
    });
  });

  eachCase(
    [
      {
        why: 'INITIALLY_SUSPENDED, "Not applicable when altering a warehouse"',
        alter: 'set initially_suspended = true',
        code: '001003',
      },
      { why: 'a size it does not list', alter: 'set warehouse_size = huge', code: '001006' },
      {
        why: 'a resource monitor that does not exist',
        alter: 'set resource_monitor = no_such_monitor',
        code: '002003',
      },
      { why: 'SUSPEND, which the stand-in does not model', alter: 'suspend', code: '000002' },
      { why: 'RENAME TO, which the stand-in does not model', alter: 'rename to other_wh', code: '000002' },
    ],
    (c) => `refuses ${c.why} with ${c.code} (${ALTER_WAREHOUSE})`,
    async (c) => {
      const name = await warehouse();
      await expect(h.run(`alter warehouse ${name} ${c.alter}`, admin)).rejects.toMatchObject({
        code: c.code,
      });
    },
  );
});

describe('SHOW WAREHOUSES and SHOW RESOURCE MONITORS', () => {
  it(`lists only the warehouses the role has a privilege on, matched by a case-insensitive LIKE (${SHOW_WAREHOUSES})`, async () => {
    const name = unique('SEEN_WH');
    await h.run(`create warehouse ${name}`, admin);
    const onlooker = await roleWith([]);
    expect(await shown('show warehouses', onlooker)).toEqual([]);
    await h.run(`grant usage on warehouse ${name} to role ${onlooker.role}`, admin);
    expect(
      (await shown(`show warehouses like '${name.toLowerCase()}%'`, onlooker)).map((r) => r.name),
    ).toEqual([name]);
  });

  it(`lists a resource monitor only to a role with a privilege on it or MANAGE GRANTS (${SHOW_RESOURCE_MONITORS})`, async () => {
    const monitor = unique('MONITOR');
    await h.run(tallyMonitor(monitor), admin);
    const onlooker = await roleWith([]);
    expect(await shown(`show resource monitors like '${monitor}'`, onlooker)).toEqual([]);
    await h.run(`grant monitor on resource monitor ${monitor} to role ${onlooker.role}`, admin);
    expect((await shown(`show resource monitors like '${monitor}'`, onlooker)).map((r) => r.name)).toEqual([
      monitor,
    ]);
    expect(
      (await shown(`show resource monitors like '${monitor}'`, h.session('SECURITYADMIN'))).map(
        (r) => r.name,
      ),
    ).toEqual([monitor]);
  });
});

describe('DROP RESOURCE MONITOR', () => {
  it(`drops a monitor, after which its warehouses have none (${DROP_RESOURCE_MONITOR})`, async () => {
    const monitor = unique('MONITOR');
    const name = unique('MONITORED_WH');
    await h.run(tallyMonitor(monitor), admin);
    await h.run(`create warehouse ${name} resource_monitor = ${monitor}`, admin);
    expect((await h.run(`drop resource monitor ${monitor}`, admin)).rows).toEqual([
      [`${monitor} successfully dropped.`],
    ]);
    expect(await shown(`show resource monitors like '${monitor}'`)).toEqual([]);
    expect((await shown(`show warehouses like '${name}'`))[0]?.resource_monitor).toBeNull();
  });

  it(`"completes successfully" with IF EXISTS when the monitor does not exist, and fails without (${DROP_RESOURCE_MONITOR})`, async () => {
    await h.run('drop resource monitor if exists no_such_monitor', admin);
    await expect(h.run('drop resource monitor no_such_monitor', admin)).rejects.toMatchObject({
      code: '002003',
    });
  });
});
