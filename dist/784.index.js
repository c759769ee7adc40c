export const id = 784;
export const ids = [784];
export const modules = {

/***/ 784:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   run: () => (/* binding */ E)
/* harmony export */ });
/* harmony import */ var node_module__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(995);
/* harmony import */ var _chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(868);
/* harmony import */ var _chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(311);
/* harmony import */ var _chunk_5JNPHVJF_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(803);
/* harmony import */ var _chunk_ETBH66DE_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(84);
/* harmony import */ var _chunk_JOTHZTBP_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(675);
 const require = (0,node_module__WEBPACK_IMPORTED_MODULE_0__.createRequire)(import.meta.url);
async function E(){try{let r=(0,_chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.v)();if(!r){(0,_chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.j)("Nothing to clean up: the main step created nothing.");return}let i=(0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.M)(r);if(!(0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.H)()){let o=(0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.o)(r);o.secretRemains?(0,_chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.i)(o.message):(0,_chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.j)(o.message),(0,_chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.j)(`The job ${i}.`);return}let t=await (0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.l)(r,async()=>{let o=await (0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.t)(r.bootstrap,(0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.I)(),_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.J);return (0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.G)(),(0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.A)(o.kc,(0,_chunk_5JNPHVJF_js__WEBPACK_IMPORTED_MODULE_3__.n)(),o.oidc)},{last:!0});for(let o of t.done)(0,_chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.j)(o);for(let o of t.problems)(0,_chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.i)((0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.q)(o));(0,_chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.j)(`The job ${i}.`),await (0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.R)([...t.done,...t.problems.map(o=>`Problem: ${(0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.q)(o)}`)],t.revoked,i)}catch(r){if(r instanceof _chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.u){(0,_chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.i)((0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.n)((0,_chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.e)("namespace")));return}(0,_chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.i)(`Cleanup did not finish: ${(0,_chunk_MVPL4C6D_js__WEBPACK_IMPORTED_MODULE_1__.q)((0,_chunk_PGYQ3Q4R_js__WEBPACK_IMPORTED_MODULE_2__.n)(r))}`)}}


/***/ })

};
