console.log('tally', process.argv.slice(2));
