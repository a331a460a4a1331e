// `express4` is Express 4 installed under an alias, to test against both majors; its API is
// close enough to Express 5's types for what the tests call.
declare module 'express4' {
  import express from 'express';
  export default express;
}
